package io.vigil.functions.anomaly;

import java.io.Serializable;
import java.util.Locale;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * Shape discords with an anomaly likelihood, a range check and alert de-duplication: the
 * strongest detectors here. One implementation serves three registered detectors that differ only
 * in their {@link Settings}: {@value #NAME} ({@link Settings#DISCORD}), {@value #NAME_V2} ({@link
 * Settings#DISCORD_V2}), which adds winsorized calibration and incident-level de-duplication, and
 * {@value #NAME_V3} ({@link Settings#DISCORD_V3}, the default), which also measures each surprise
 * against the signal's own history of surprises.
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
 *       deviations it lies above (the deviation is at least a thousandth of the range of the
 *       values, so the scores do not depend on the signal's unit). This makes the distances of
 *       different signals comparable, and a distance that is large but usual for this signal scores
 *       low. The score is {@code 0.99 s^2 / (s^2 + 25)} for {@code s > 0}, else 0 (0.4 at about 4
 *       standard deviations).
 *   <li>Winsorized calibration: the moving average enters the calibration window clipped at
 *       {@link Settings#clip()} spreads above its mean (infinite, i.e. no clip, for {@value
 *       #NAME}; 10 for {@value #NAME_V2}). Without the clip one large incident inflates the spread
 *       for the whole calibration window (a week), and a second, smaller anomaly in that week goes
 *       unseen; with it, an incident counts as "very unusual" but not as a new normal.
 *   <li>Range check: a value beyond the range of every value seen so far, widened by 5% of that
 *       range on each side, scores at least 0.99, more the further out it lies.
 *   <li>De-duplication: a score at or above {@link #ALERT} raises an alert. For the next {@link
 *       #REFRACTORY} values every score is reported at a tenth, because the same incident keeps the
 *       score high for a while and one alert per incident is what a receiver wants. For the values
 *       after that, up to {@link Settings#incident()} values after the alert ({@link #REFRACTORY}
 *       for {@value #NAME}, so no more; 100 for {@value #NAME_V2}), a score is reported at a tenth
 *       unless its surprise {@code s} is at least {@link #ESCALATION} times the surprise of the
 *       alert (a range-check alert counts as infinitely surprising). A noisy episode thus raises
 *       one alert rather than one every {@link #REFRACTORY} values, while a clearly stronger
 *       development of the same incident still alerts.
 *   <li>Surprise history ({@link Settings#surpriseBlocks()} &gt; 0, {@value #NAME_V3} only): the
 *       values after the warm-up are cut into blocks of {@code history} values, and the largest
 *       (unscaled) surprise of each block (capped at {@link #SURPRISE_CAP}) is kept for the last
 *       {@link Settings#surpriseBlocks()} blocks. Once {@link #MIN_BLOCKS} blocks are complete, let
 *       {@code m} be the (lower) median of these block maxima: a signal whose typical block holds
 *       a surprise above {@link #ALERT_SURPRISE} (the surprise that scores {@link #ALERT}) alerts
 *       that often by its nature, so every surprise is scaled by {@code ALERT_SURPRISE / m}
 *       (nothing changes while {@code m <= ALERT_SURPRISE}). Its typical block maximum then sits
 *       at the alert level, and only what stands out from the signal's usual excursions alerts.
 *       The median ignores a few incidents in the history; the scaled surprise is what the score
 *       and the de-duplication use.
 * </ol>
 *
 * <p>Warm-up: the first {@code learning} values (score 0). State per key and field: a ring buffer
 * of {@code history} values, one of {@code shortWindow} raw scores, one of {@code calibration}
 * averages, one of {@link Settings#surpriseBlocks()} block maxima (none without a surprise
 * history), and seven scalars; {@link #maxStateBytes()} is 24,424 bytes for {@value #NAME} and
 * {@value #NAME_V2} and 24,648 bytes for {@value #NAME_V3} with the defaults. Cost per
 * value: {@code history x shingle} multiply-adds at most.
 */
public final class DiscordDetector implements AnomalyDetector<DiscordDetector.State> {

  private static final long serialVersionUID = 1L;

  /** The name of the detector with {@link Settings#DISCORD}. */
  public static final String NAME = "discord";

  /** The name of the detector with {@link Settings#DISCORD_V2}. */
  public static final String NAME_V2 = "discord-v2";

  /** The name of the detector with {@link Settings#DISCORD_V3}. */
  public static final String NAME_V3 = "discord-v3";

  /** A score at or above this raises an alert, which starts the refractory period. */
  public static final double ALERT = 0.4;

  /** Values after an alert whose scores are all reported at {@link #SUPPRESSED} of their size. */
  public static final int REFRACTORY = 30;

  /** How many times the surprise of the last alert a new alert within an incident needs. */
  public static final double ESCALATION = 2.0;

  static final double SUPPRESSED = 0.1;

  /** The surprise {@code s} whose score {@code 0.99 s^2 / (s^2 + 25)} is {@link #ALERT}. */
  public static final double ALERT_SURPRISE = Math.sqrt(25 * ALERT / (0.99 - ALERT));

  /** Complete blocks needed before the surprise history scales surprises. */
  public static final int MIN_BLOCKS = 3;

  /** A block's largest surprise is kept capped at this (an infinite surprise counts as this). */
  public static final double SURPRISE_CAP = 20.0;

  private static final double RANGE_TOLERANCE = 0.05;

  /** Floor of the spread of the averaged raw scores, as a fraction of the range of the values. */
  static final double SPREAD_FLOOR = 1e-3;

  /**
   * What distinguishes the registered variants.
   *
   * @param name the detector's name
   * @param clip the averages enter the calibration window clipped at this many spreads above
   *     their mean; {@link Double#POSITIVE_INFINITY} for no clip
   * @param incident values after an alert during which only an {@link #ESCALATION} can raise a new
   *     alert; at most {@link #REFRACTORY} for none beyond the refractory period
   * @param surpriseBlocks how many blocks of {@code history} values keep their largest surprise
   *     for the surprise history; 0 for none
   */
  public record Settings(String name, double clip, int incident, int surpriseBlocks)
      implements Serializable {

    /** No clip, and no de-duplication beyond the refractory period. */
    public static final Settings DISCORD =
        new Settings(NAME, Double.POSITIVE_INFINITY, REFRACTORY, 0);

    /** Clip at 10 spreads; an incident lasts 100 values. */
    public static final Settings DISCORD_V2 = new Settings(NAME_V2, 10.0, 100, 0);

    /** {@link #DISCORD_V2} with a surprise history of 20 blocks (20,000 values). */
    public static final Settings DISCORD_V3 = new Settings(NAME_V3, 10.0, 100, 20);

    public Settings {
      if (name == null || !(clip > 0) || incident < 0 || surpriseBlocks < 0) {
        throw new IllegalArgumentException(
            "need a name, clip > 0, incident >= 0 and surpriseBlocks >= 0");
      }
    }
  }

  /** Keyed state of one signal. */
  public static class State {
    /** The last {@code history} values, for the shapes. */
    public RingBuffer values;

    /** The last {@code shortWindow} raw scores (shape distances). */
    public RingBuffer rawScores;

    /** The last {@code calibration} moving averages of the raw scores, winsorized. */
    public RingBuffer averages;

    public double min;
    public double max;
    public long seen;

    /** {@link #seen} at the last alert, or -1 if none. */
    public long lastAlert;

    /** The surprise of the last alert (infinite for a range-check alert). */
    public double lastAlertSurprise;

    /**
     * The largest surprise of each of the last complete blocks of {@code history} values; null
     * without a surprise history (and in state written before it existed).
     */
    public RingBuffer blockMaxima;

    /** The largest surprise of the current block so far. */
    public double blockMax;

    /** Values of the current block so far. */
    public long inBlock;

    public State() {}
  }

  private final Settings settings;
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
  public DiscordDetector(Settings settings) {
    this(settings, 12, 1000, 5, 2016, 300);
  }

  public DiscordDetector(
      Settings settings, int shingle, int history, int shortWindow, int calibration, int learning) {
    if (shingle < 1 || history < 3 * shingle || shortWindow < 1 || calibration < 10) {
      throw new IllegalArgumentException(
          "need shingle >= 1, history >= 3 x shingle, shortWindow >= 1, calibration >= 10");
    }
    if (learning < 2 * shingle + 10) {
      throw new IllegalArgumentException("need learning >= 2 x shingle + 10");
    }
    this.settings = settings;
    this.shingle = shingle;
    this.history = history;
    this.shortWindow = shortWindow;
    this.calibration = calibration;
    this.learning = learning;
  }

  @Override
  public String name() {
    return settings.name();
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
    if (settings.surpriseBlocks() > 0) {
      state.blockMaxima = new RingBuffer(settings.surpriseBlocks());
    }
    return state;
  }

  @Override
  public DetectorResult update(State state, long eventTime, double value) {
    double surprise = 0;
    double average = Double.NaN;
    if (state.values.count >= 2 * shingle + 1) {
      state.rawScores.add(nearestDistance(state.values, value));
      average = state.rawScores.mean();
    }
    if (!Double.isNaN(average) && state.averages.count >= 10) {
      double spread = spread(state);
      double excess = average - state.averages.mean();
      if (spread > 0) {
        surprise = excess / spread;
        // Winsorize what the calibration learns: one incident must not become the new normal.
        average = Math.min(average, state.averages.mean() + settings.clip() * spread);
      } else {
        // A signal that has never changed: any departure is infinitely surprising.
        surprise = excess > 0 ? Double.POSITIVE_INFINITY : 0.0;
      }
    }
    double scale = 1.0;
    if (settings.surpriseBlocks() > 0 && state.seen >= learning) {
      if (state.blockMaxima == null) {
        state.blockMaxima = new RingBuffer(settings.surpriseBlocks());
      }
      scale = surpriseScale(state.blockMaxima);
      state.blockMax = Math.max(state.blockMax, Math.min(surprise, SURPRISE_CAP));
      if (++state.inBlock == history) {
        state.blockMaxima.add(state.blockMax);
        state.blockMax = 0;
        state.inBlock = 0;
      }
    }
    DetectorResult result;
    if (state.seen < learning) {
      result = DetectorResult.warmingUp((int) state.seen, learning);
    } else {
      result = score(state, value, surprise > 0 ? surprise * scale : surprise, scale);
    }
    if (!Double.isNaN(average)) {
      state.averages.add(average);
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
   * The spread of the averages: their standard deviation, at least {@link #SPREAD_FLOOR} of the
   * range of the values seen so far, so that scores do not depend on the signal's unit.
   */
  private static double spread(State state) {
    return Math.max(Math.sqrt(state.averages.variance()), SPREAD_FLOOR * (state.max - state.min));
  }

  /**
   * The factor the surprise history applies to surprises: {@link #ALERT_SURPRISE} over the lower
   * median of the block maxima when that median is larger, else 1 (also before {@link
   * #MIN_BLOCKS} complete blocks).
   */
  static double surpriseScale(RingBuffer blockMaxima) {
    if (blockMaxima.count < MIN_BLOCKS) {
      return 1.0;
    }
    double[] sorted = blockMaxima.sorted();
    double median = sorted[(sorted.length - 1) / 2];
    return median > ALERT_SURPRISE ? ALERT_SURPRISE / median : 1.0;
  }

  private DetectorResult score(State state, double value, double surprise, double scale) {
    // 0.99 s^2 / (s^2 + 25), written so that an infinite surprise gives 0.99.
    double score = surprise <= 0 ? 0.0 : 0.99 / (1 + 25 / (surprise * surprise));
    String why =
        String.format(
            Locale.ROOT,
            "the last %d values form a shape %.1f sigma further from every earlier shape than usual",
            shingle,
            surprise);
    if (scale < 1.0) {
      why +=
          String.format(
              Locale.ROOT,
              " (scaled by %.2f: this signal's usual largest surprise per %d values is %.1f sigma)",
              scale,
              history,
              ALERT_SURPRISE / scale);
    }
    double range = state.max - state.min;
    double beyond = Math.max(value - state.max, state.min - value);
    if (range > 0 && beyond > RANGE_TOLERANCE * range) {
      // Above every likelihood score, ordered by how far out the value lies.
      score = 0.99 + 0.01 * beyond / (beyond + range);
      why = "outside the range of every earlier value (" + state.min + " to " + state.max + ")";
      surprise = Double.POSITIVE_INFINITY;
    }
    long since = state.lastAlert < 0 ? Long.MAX_VALUE : state.seen - state.lastAlert;
    if (since <= REFRACTORY) {
      score *= SUPPRESSED;
      why += "; reported at a tenth: an alert was raised " + since + " values ago";
    } else if (since <= settings.incident() && surprise < ESCALATION * state.lastAlertSurprise) {
      score *= SUPPRESSED;
      why +=
          "; reported at a tenth: part of the incident alerted "
              + since
              + " values ago, and not "
              + ESCALATION
              + " times as surprising";
    } else if (score >= ALERT) {
      state.lastAlert = state.seen;
      state.lastAlertSurprise = surprise;
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
        + (settings.surpriseBlocks() > 0 ? RingBuffer.bytes(settings.surpriseBlocks()) : 0)
        + 64;
  }
}
