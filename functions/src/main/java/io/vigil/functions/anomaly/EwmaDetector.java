package io.vigil.functions.anomaly;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * Exponentially weighted moving average and variance: a value is scored by how many standard
 * deviations it lies from the EWMA of the values before it. The cheapest detector (four numbers
 * per key); adapts to level shifts within about {@code 1 / alpha} values.
 *
 * <p>Score: {@code z^2 / (z^2 + 9)}. Warm-up: the first {@code minValues} values.
 */
public final class EwmaDetector implements AnomalyDetector<EwmaDetector.State> {

  private static final long serialVersionUID = 1L;

  public static final String NAME = "ewma";

  /** Keyed state: the moving mean and variance and how many values they have seen. */
  public static class State {
    public double mean;
    public double variance;
    public long seen;

    public State() {}
  }

  private final double alpha;
  private final int minValues;

  /** {@code alpha = 0.02} (a memory of about 50 values) and a warm-up of 30 values. */
  public EwmaDetector() {
    this(0.02, 30);
  }

  public EwmaDetector(double alpha, int minValues) {
    if (!(alpha > 0 && alpha < 1) || minValues < 2) {
      throw new IllegalArgumentException("need 0 < alpha < 1 and minValues >= 2");
    }
    this.alpha = alpha;
    this.minValues = minValues;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public TypeInformation<State> stateType() {
    return Types.POJO(State.class);
  }

  @Override
  public State newState() {
    return new State();
  }

  @Override
  public DetectorResult update(State state, long eventTime, double value) {
    DetectorResult result;
    if (state.seen < minValues) {
      result = DetectorResult.warmingUp((int) state.seen, minValues);
    } else {
      double sigma = Math.max(Math.sqrt(state.variance), Math.max(1e-3 * Math.abs(state.mean), 1e-9));
      double z = (value - state.mean) / sigma;
      result =
          new DetectorResult(
              Scores.fromSigma(z),
              state.mean,
              state.mean - 3 * sigma,
              state.mean + 3 * sigma,
              false,
              Scores.sigmaText(z, "moving average"));
    }
    if (state.seen == 0) {
      state.mean = value;
      state.variance = 0;
    } else {
      // West's incremental form of the exponentially weighted mean and variance.
      double diff = value - state.mean;
      double increment = alpha * diff;
      state.mean += increment;
      state.variance = (1 - alpha) * (state.variance + diff * increment);
    }
    state.seen++;
    return result;
  }

  @Override
  public long maxStateBytes() {
    return 24 + 16;
  }
}
