package io.vigil.functions.anomaly;

import java.util.Locale;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * Anomaly likelihood over a robust z-score, with a range check: the strongest detector here.
 *
 * <ol>
 *   <li>Raw score: the robust z-score of the value against the median and MAD of the previous
 *       {@code window} values, mapped to [0, 1) as {@code z^2 / (z^2 + 9)}.
 *   <li>Likelihood (as Numenta's "anomaly likelihood", Ahmad et al. 2017): the mean of the last
 *       {@code shortWindow} raw scores is compared with the distribution (mean, standard
 *       deviation) of that same moving average over the last {@code history} values; the score is
 *       how far the current average lies in the upper tail of that distribution. So a raw score
 *       that is high but usual for this signal scores low, and a sustained change of behaviour
 *       scores high.
 *   <li>Likelihood score: with {@code s} the number of standard deviations the current average
 *       lies above the long-run mean, {@code 0.99 s^2 / (s^2 + 25)} (0 when {@code s <= 0}).
 *   <li>Range check: a value beyond the range of every value seen so far, widened by 5% of that
 *       range on each side, scores 1.
 *   <li>Onset rule: a score that does not exceed every score of the previous 50 values is halved,
 *       so an alarm marks the start of an anomaly rather than its whole duration.
 * </ol>
 *
 * <p>Warm-up: the first {@code learning} values (score 0). State: three ring buffers ({@code
 * window}, {@code shortWindow} and {@code history} doubles) and a few scalars; see {@link
 * #maxStateBytes()}.
 */
public final class LikelihoodDetector implements AnomalyDetector<LikelihoodDetector.State> {

  private static final long serialVersionUID = 1L;

  public static final String NAME = "likelihood";

  private static final double RANGE_TOLERANCE = 0.05;
  /** How many earlier scores a score must exceed to be reported in full (the onset rule). */
  static final int GATE = 50;

  /** The share of a score reported when it does not exceed the last {@link #GATE} scores. */
  static final double GATED = 0.5;

  /** Keyed state of one signal. */
  public static class State {
    public RingBuffer values;
    public RingBuffer rawScores;
    public RingBuffer averages;
    /** The last {@link #GATE} scores before the onset rule. */
    public RingBuffer recentScores;
    public double min;
    public double max;
    public long seen;

    public State() {}
  }

  private final int window;
  private final int shortWindow;
  private final int history;
  private final int learning;

  /**
   * Windows of 288 values for the baseline (a day of 5-minute readings), 10 for the short average,
   * 2016 for the long-run distribution (a week), and a warm-up of 300 values.
   */
  public LikelihoodDetector() {
    this(288, 10, 2016, 300);
  }

  public LikelihoodDetector(int window, int shortWindow, int history, int learning) {
    if (window < 3 || shortWindow < 1 || history < 10 || learning < 30) {
      throw new IllegalArgumentException(
          "need window >= 3, shortWindow >= 1, history >= 10, learning >= 30");
    }
    this.window = window;
    this.shortWindow = shortWindow;
    this.history = history;
    this.learning = learning;
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
    state.values = new RingBuffer(window);
    state.rawScores = new RingBuffer(shortWindow);
    state.averages = new RingBuffer(history);
    state.recentScores = new RingBuffer(GATE);
    return state;
  }

  @Override
  public DetectorResult update(State state, long eventTime, double value) {
    double raw = 0;
    double median = Double.NaN;
    double sigma = Double.NaN;
    double z = 0;
    if (state.values.count >= 3) {
      double[] sorted = state.values.sorted();
      median = RobustZDetector.median(sorted);
      double[] deviations = new double[sorted.length];
      for (int i = 0; i < sorted.length; i++) {
        deviations[i] = Math.abs(sorted[i] - median);
      }
      java.util.Arrays.sort(deviations);
      sigma = RobustZDetector.robustSigma(1.4826 * RobustZDetector.median(deviations), median, sorted);
      z = (value - median) / sigma;
      raw = Scores.fromSigma(z);
    }
    state.rawScores.add(raw);
    double average = state.rawScores.mean();

    boolean outOfRange = false;
    if (state.seen > 0 && state.max > state.min) {
      double tolerance = (state.max - state.min) * RANGE_TOLERANCE;
      outOfRange = value > state.max + tolerance || value < state.min - tolerance;
    }

    DetectorResult result;
    if (state.seen < learning) {
      result = DetectorResult.warmingUp((int) state.seen, learning);
    } else {
      double mean = state.averages.mean();
      double deviation = Math.max(Math.sqrt(state.averages.variance()), 1e-4);
      double surprise = (average - mean) / deviation;
      double tail = Scores.normalTail(surprise);
      // Below 1 for any finite surprise, so values outside the range (score 1) rank first.
      double score =
          surprise <= 0 ? 0.0 : 0.99 * surprise * surprise / (surprise * surprise + 25.0);
      String why =
          String.format(
              Locale.ROOT,
              "recent deviation is unusual for this signal (tail probability %.2g); latest value %s",
              tail,
              Scores.sigmaText(z, "median of the last " + state.values.count + " values"));
      if (outOfRange) {
        score = 1.0;
        why = "outside the range of every earlier value (" + state.min + " to " + state.max + ")";
      }
      // Onset rule: an alarm that persists says nothing new, so a score not above every score of
      // the last GATE values is halved. The first value of an anomaly keeps its full score.
      double before = 0;
      for (int i = 0; i < state.recentScores.count; i++) {
        before = Math.max(before, state.recentScores.values[i]);
      }
      state.recentScores.add(score);
      if (score <= before) {
        score = GATED * score;
      }
      result =
          new DetectorResult(
              score, median, median - 3 * sigma, median + 3 * sigma, false, why);
    }
    state.averages.add(average);
    state.values.add(value);
    if (state.seen == 0) {
      state.min = value;
      state.max = value;
    } else {
      state.min = Math.min(state.min, value);
      state.max = Math.max(state.max, value);
    }
    state.seen++;
    return result;
  }

  @Override
  public long maxStateBytes() {
    return RingBuffer.bytes(window)
        + RingBuffer.bytes(shortWindow)
        + RingBuffer.bytes(history)
        + RingBuffer.bytes(GATE)
        + 24;
  }
}
