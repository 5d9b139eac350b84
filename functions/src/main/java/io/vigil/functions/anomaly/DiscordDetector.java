package io.vigil.functions.anomaly;

import java.util.Locale;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * Shape discords with an anomaly likelihood, a range check and alert de-duplication: the
 * strongest detector here (the default).
 *
 * <ol>
 *   <li>Raw score: the Euclidean distance from the latest {@code shingle} values (the current
 *       value and the ones just before it) to the nearest earlier, non-overlapping run of {@code
 *       shingle} values among the last {@code history} values. A shape the signal has shown before
 *       is close to some earlier run, whatever its level or time of day; a new shape is far from
 *       all of them (a "discord"). So it sees changes of shape inside the usual range, e.g. a
 *       missing daily peak.
 *   <li>Likelihood (Numenta's "anomaly likelihood", Ahmad et al. 2017): the mean of the last
 *       {@code shortWindow} raw scores is compared with the mean and standard deviation of that
 *       moving average over the last {@code calibration} values; {@code s} is how many standard
 *       deviations it lies above (the deviation is at least a thousandth of the range of the values,
 *       so the scores do not depend on the signal's unit). This makes the distances of different
 *       signals comparable, and a distance that is large but usual for this signal scores low. The score is {@code 0.99 s^2
 *       / (s^2 + 25)} for {@code s > 0}, else 0 (0.4 at about 4 standard deviations).
 *   <li>Range check: a value beyond the range of every value seen so far, widened by 5% of that
 *       range on each side, scores at least 0.99, more the further out it lies.
 *   <li>De-duplication: a score at or above {@link #ALERT} raises an alert; for the next {@link
 *       #REFRACTORY} values the scores are reported at a tenth, because the same incident keeps
 *       the score high for a while and one alert per incident is what a receiver wants.
 * </ol>
 *
 * <p>Warm-up: the first {@code learning} values (score 0). State per key and field: a ring buffer
 * of {@code history} values, one of {@code shortWindow} raw scores, one of {@code calibration}
 * averages, and five scalars; {@link #maxStateBytes()} is about 24 KB with the defaults. Cost per
 * value: {@code history x shingle} multiply-adds at most.
 */
public final class DiscordDetector implements AnomalyDetector<DiscordDetector.State> {

  private static final long serialVersionUID = 1L;

  public static final String NAME = "discord";

  /** A score at or above this raises an alert, which starts the refractory period. */
  public static final double ALERT = 0.4;

  /** Values after an alert whose scores are reported at {@link #SUPPRESSED} of their size. */
  public static final int REFRACTORY = 30;

  static final double SUPPRESSED = 0.1;

  private static final double RANGE_TOLERANCE = 0.05;

  /** Floor of the spread of the averaged raw scores, as a fraction of the range of the values. */
  static final double SPREAD_FLOOR = 1e-3;

  /** Keyed state of one signal. */
  public static class State {
    /** The last {@code history} values, for the shapes and the range. */
    public RingBuffer values;

    public RingBuffer rawScores;
    public RingBuffer averages;
    public double min;
    public double max;
    public long seen;

    /** {@link #seen} at the last alert, or -1 if none. */
    public long lastAlert;

    public State() {}
  }

  private final int shingle;
  private final int history;
  private final int shortWindow;
  private final int calibration;
  private final int learning;

  /**
   * Shapes of 12 values (an hour of 5-minute readings) compared with the last 1000 values, a
   * short average of 5 raw scores, calibrated over 2016 values (a week of 5-minute readings),
   * and a warm-up of 300 values.
   */
  public DiscordDetector() {
    this(12, 1000, 5, 2016, 300);
  }

  public DiscordDetector(int shingle, int history, int shortWindow, int calibration, int learning) {
    if (shingle < 1 || history < 3 * shingle || shortWindow < 1 || calibration < 10) {
      throw new IllegalArgumentException(
          "need shingle >= 1, history >= 3 x shingle, shortWindow >= 1, calibration >= 10");
    }
    if (learning < 2 * shingle + 10) {
      throw new IllegalArgumentException("need learning >= 2 x shingle + 10");
    }
    this.shingle = shingle;
    this.history = history;
    this.shortWindow = shortWindow;
    this.calibration = calibration;
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
    state.values = new RingBuffer(history);
    state.rawScores = new RingBuffer(shortWindow);
    state.averages = new RingBuffer(calibration);
    state.lastAlert = -1;
    return state;
  }

  @Override
  public DetectorResult update(State state, long eventTime, double value) {
    double distance = 0;
    if (state.values.count >= 2 * shingle + 1) {
      distance = nearestDistance(state.values, value);
      state.rawScores.add(distance);
    }
    double surprise = 0;
    if (state.rawScores.count > 0 && state.averages.count >= 10) {
      surprise = surprise(state);
    }
    DetectorResult result;
    if (state.seen < learning) {
      result = DetectorResult.warmingUp((int) state.seen, learning);
    } else {
      result = score(state, value, surprise);
    }
    if (state.rawScores.count > 0) {
      state.averages.add(state.rawScores.mean());
    }
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

  /**
   * How many spreads the short average of the raw scores lies above their usual average. The
   * spread has a floor of {@link #SPREAD_FLOOR} of the range of the values seen so far, in the
   * signal's own unit, so that the score of a series does not depend on the unit it is measured
   * in; a signal that has never changed has no spread, and any departure from it is infinitely
   * surprising.
   */
  private static double surprise(State state) {
    double excess = state.rawScores.mean() - state.averages.mean();
    double spread =
        Math.max(Math.sqrt(state.averages.variance()), SPREAD_FLOOR * (state.max - state.min));
    if (spread > 0) {
      return excess / spread;
    }
    return excess > 0 ? Double.POSITIVE_INFINITY : 0.0;
  }

  private DetectorResult score(State state, double value, double surprise) {
    // 0.99 s^2 / (s^2 + 25), written so that an infinite surprise gives 0.99.
    double score = surprise <= 0 ? 0.0 : 0.99 / (1 + 25 / (surprise * surprise));
    String why =
        String.format(
            Locale.ROOT,
            "the last %d values form a shape %.1f sigma further from every earlier shape than usual",
            shingle,
            surprise);
    double range = state.max - state.min;
    double beyond = Math.max(value - state.max, state.min - value);
    if (range > 0 && beyond > RANGE_TOLERANCE * range) {
      // Above every likelihood score, ordered by how far out the value lies.
      score = 0.99 + 0.01 * beyond / (beyond + range);
      why = "outside the range of every earlier value (" + state.min + " to " + state.max + ")";
    }
    if (state.lastAlert >= 0 && state.seen - state.lastAlert <= REFRACTORY) {
      score *= SUPPRESSED;
      why += "; reported at a tenth: an alert was raised " + (state.seen - state.lastAlert)
          + " values ago";
    } else if (score >= ALERT) {
      state.lastAlert = state.seen;
    }
    double expected = state.values.recent(0);
    return new DetectorResult(score, expected, state.min, state.max, false, why);
  }

  /**
   * The distance from the shape ending with {@code value} to the nearest earlier shape in {@code
   * values} that does not overlap it.
   */
  private double nearestDistance(RingBuffer values, double value) {
    double best = Double.MAX_VALUE;
    // A candidate shape ends `end` values back (0 = the latest stored value); it must end at least
    // `shingle` values back so that it does not overlap the current shape.
    for (int end = shingle - 1; end + shingle - 1 < values.count; end++) {
      double d = square(value - values.recent(end));
      for (int k = 1; k < shingle && d < best; k++) {
        d += square(values.recent(k - 1) - values.recent(end + k));
      }
      best = Math.min(best, d);
    }
    return Math.sqrt(best);
  }

  private static double square(double x) {
    return x * x;
  }

  @Override
  public long maxStateBytes() {
    return RingBuffer.bytes(history)
        + RingBuffer.bytes(shortWindow)
        + RingBuffer.bytes(calibration)
        + 40;
  }
}
