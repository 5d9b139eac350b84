package io.vigil.functions.anomaly;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * Robust z-score over a sliding window: how many (robust) standard deviations a value lies from
 * the median of the previous {@code window} values, the standard deviation being estimated as
 * 1.4826 x the median absolute deviation. Cheap and insensitive to earlier outliers; blind to
 * changes of shape that stay within the usual range.
 *
 * <p>Score: {@code z^2 / (z^2 + 9)} (0.5 at 3 sigma, 0.9 at 9 sigma). Warm-up: the first {@code
 * minValues} values. State: the last {@code window} values (8 bytes each).
 */
public final class RobustZDetector implements AnomalyDetector<RobustZDetector.State> {

  private static final long serialVersionUID = 1L;

  public static final String NAME = "robust-z";

  /** Keyed state: the recent values. */
  public static class State {
    public RingBuffer recent;

    public State() {}
  }

  private final int window;
  private final int minValues;

  /** A window of 288 values (one day of 5-minute readings) and a warm-up of 30 values. */
  public RobustZDetector() {
    this(288, 30);
  }

  public RobustZDetector(int window, int minValues) {
    if (window < 3 || minValues < 3 || minValues > window) {
      throw new IllegalArgumentException("need 3 <= minValues <= window");
    }
    this.window = window;
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
    State state = new State();
    state.recent = new RingBuffer(window);
    return state;
  }

  @Override
  public DetectorResult update(State state, long eventTime, double value) {
    RingBuffer recent = state.recent;
    DetectorResult result;
    if (recent.count < minValues) {
      result = DetectorResult.warmingUp(recent.count, minValues);
    } else {
      double[] sorted = recent.sorted();
      double median = median(sorted);
      double[] deviations = new double[sorted.length];
      for (int i = 0; i < sorted.length; i++) {
        deviations[i] = Math.abs(sorted[i] - median);
      }
      java.util.Arrays.sort(deviations);
      double sigma = robustSigma(1.4826 * median(deviations), median, sorted);
      double z = (value - median) / sigma;
      result =
          new DetectorResult(
              Scores.fromSigma(z),
              median,
              median - 3 * sigma,
              median + 3 * sigma,
              false,
              Scores.sigmaText(z, "median of the last " + recent.count + " values"));
    }
    recent.add(value);
    return result;
  }

  /**
   * The MAD-based sigma, or when more than half the window is one value (MAD 0), the spread of the
   * whole window, or for a constant window a small share of its level, so a departure from a flat
   * line scores high without dividing by zero.
   */
  static double robustSigma(double madSigma, double median, double[] sorted) {
    if (madSigma > 0) {
      return madSigma;
    }
    double range = sorted[sorted.length - 1] - sorted[0];
    if (range > 0) {
      return range / 4.0;
    }
    return Math.max(1e-3 * Math.abs(median), 1e-9);
  }

  static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }

  @Override
  public long maxStateBytes() {
    return RingBuffer.bytes(window);
  }
}
