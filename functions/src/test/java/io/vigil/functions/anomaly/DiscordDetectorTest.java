package io.vigil.functions.anomaly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import io.vigil.functions.anomaly.DiscordDetector.Settings;
import org.junit.jupiter.api.Test;

/**
 * {@link DiscordDetector} run directly, against a naive re-computation of its rules; mostly with
 * {@link Settings#DISCORD_V2}, the default, which exercises every rule.
 */
class DiscordDetectorTest {

  private static final Settings V1 = Settings.DISCORD;
  private static final Settings V2 = Settings.DISCORD_V2;
  private static final Settings V3 = Settings.DISCORD_V3;

  private static final int SHINGLE = 12;
  private static final int HISTORY = 1000;
  private static final int SHORT = 5;
  private static final int CALIBRATION = 2016;
  private static final int LEARNING = 300;

  @Test
  void scoresEqualANaiveComputationOfEveryRule() {
    List<DetectorResult> actual = scoresEqualTheNaiveComputation(V2, spikeThenFlatCycle());
    assertThat(actual.subList(0, LEARNING)).allMatch(DetectorResult::warmUp);
    assertThat(actual.get(600).explanation()).startsWith("outside the range");
    assertThat(actual.get(600).score()).isGreaterThanOrEqualTo(0.99);
    // Within the incident of the range alert only a stronger development could alert; the rows
    // after its refractory period are reported at a tenth as part of it.
    assertThat(actual.subList(601, 701)).allMatch(r -> r.score() < DiscordDetector.ALERT);
    assertThat(actual.get(600 + DiscordDetector.REFRACTORY + 1).explanation())
        .contains("part of the incident");
    assertThat(actual.get(600 + V2.incident() + 1).explanation())
        .doesNotContain("reported at a tenth");
  }

  @Test
  void withoutClipOrIncidentItScoresAsTheNaiveComputationToo() {
    List<DetectorResult> actual = scoresEqualTheNaiveComputation(V1, spikeThenFlatCycle());
    // Only the refractory period mutes: the row after it scores in full again.
    assertThat(actual.get(600 + DiscordDetector.REFRACTORY).explanation())
        .contains("an alert was raised");
    assertThat(actual.get(600 + DiscordDetector.REFRACTORY + 1).explanation())
        .doesNotContain("reported at a tenth");
  }

  @Test
  void untilTheFirstAlertItScoresAsTheDiscordDetector() {
    // Before any alert there is no incident, and no average can lie clip() spreads out (it would
    // have alerted), so the two detectors agree row by row up to and including the first alert.
    double[] series = cycle(800, 9);
    for (int i = 600; i < 612; i++) {
      series[i] = 10.0;
    }
    List<DetectorResult> v2 = run(new DiscordDetector(V2), series);
    List<DetectorResult> v1 = run(new DiscordDetector(V1), series);
    int first = -1;
    for (int i = 0; i < series.length && first < 0; i++) {
      assertThat(v2.get(i).score()).as("row %d", i).isEqualTo(v1.get(i).score());
      if (v2.get(i).score() >= DiscordDetector.ALERT) {
        first = i;
      }
    }
    assertThat(first).isBetween(600, 611 + SHINGLE);
  }

  @Test
  void aStrongerDevelopmentOfAnIncidentStillAlerts() {
    double[] series = AnomalyScorerTest.noisySeries(700, 3);
    series[500] = 60.0;
    series[540] = 70.0; // beyond the widened range, after the refractory period of the first
    series[560] = 80.0; // beyond again, but within the refractory period of the second
    List<DetectorResult> scores = run(new DiscordDetector(V2), series);
    double min = Arrays.stream(Arrays.copyOf(series, 500)).min().orElseThrow();
    double max = Arrays.stream(Arrays.copyOf(series, 500)).max().orElseThrow();
    assertThat(scores.get(500).score())
        .isCloseTo(0.99 + 0.01 * (60.0 - max) / (60.0 - max + max - min), within(1e-12));
    // A range alert is infinitely surprising, so it escalates past the incident of the first.
    assertThat(scores.get(540).score())
        .isCloseTo(0.99 + 0.01 * (70.0 - 60.0) / (70.0 - 60.0 + 60.0 - min), within(1e-12));
    assertThat(scores.get(560).score())
        .isCloseTo(0.1 * (0.99 + 0.01 * (80.0 - 70.0) / (80.0 - 70.0 + 70.0 - min)), within(1e-12));
    assertThat(scores.get(560).explanation()).contains("an alert was raised 20 values ago");
  }

  @Test
  void stateSizeIsBoundedWhateverTheLength() {
    DiscordDetector detector = new DiscordDetector(V2);
    assertThat(detector.maxStateBytes())
        .isEqualTo(8L * (HISTORY + SHORT + CALIBRATION) + 3 * 64 + 64)
        .isEqualTo(24_424);
    DiscordDetector.State state = detector.newState();
    double[] series = cycle(5000, 4);
    for (int i = 0; i < series.length; i++) {
      detector.update(state, i, series[i]);
    }
    assertThat(state.values.values).hasSize(HISTORY);
    assertThat(state.rawScores.values).hasSize(SHORT);
    assertThat(state.averages.values).hasSize(CALIBRATION);
    assertThat(state.blockMaxima).isNull();
  }

  @Test
  void theSurpriseHistoryAddsTwentyBlockMaximaToTheState() {
    DiscordDetector detector = new DiscordDetector(V3);
    assertThat(detector.maxStateBytes())
        .isEqualTo(8L * (HISTORY + SHORT + CALIBRATION + 20) + 4 * 64 + 64)
        .isEqualTo(24_648);
    DiscordDetector.State state = detector.newState();
    double[] series = cycle(40_000, 4);
    for (int i = 0; i < series.length; i++) {
      detector.update(state, i, series[i]);
    }
    assertThat(state.blockMaxima.values).hasSize(20);
    assertThat(state.blockMaxima.count).isEqualTo(20);
    assertThat(state.inBlock).isEqualTo((40_000 - LEARNING) % HISTORY);
  }

  @Test
  void theSurpriseScaleBringsTheMedianBlockMaximumToTheAlertLevel() {
    assertThat(DiscordDetector.ALERT_SURPRISE * DiscordDetector.ALERT_SURPRISE)
        .isCloseTo(25 * DiscordDetector.ALERT / (0.99 - DiscordDetector.ALERT), within(1e-12));
    RingBuffer maxima = new RingBuffer(20);
    maxima.add(9.0);
    maxima.add(8.0);
    assertThat(DiscordDetector.surpriseScale(maxima)).isEqualTo(1.0); // fewer than MIN_BLOCKS
    maxima.add(1.0);
    // The lower median of {1, 8, 9} is 8.
    assertThat(DiscordDetector.surpriseScale(maxima))
        .isCloseTo(DiscordDetector.ALERT_SURPRISE / 8.0, within(1e-12));
    maxima.add(2.0);
    // The lower median of {1, 2, 8, 9} is 2: below the alert level, nothing is scaled.
    assertThat(DiscordDetector.surpriseScale(maxima)).isEqualTo(1.0);
  }

  @Test
  void withASurpriseHistoryItScoresAsTheNaiveComputation() {
    // A bump inside the range every 600 to 900 values: the signal's usual block holds a surprise
    // well above the alert level, so later surprises are scaled down.
    List<DetectorResult> actual = scoresEqualTheNaiveComputation(V3, recurringBumps());
    assertThat(actual).anyMatch(r -> r.explanation().contains("scaled by"));
    assertThat(actual.subList(0, LEARNING + DiscordDetector.MIN_BLOCKS * HISTORY))
        .noneMatch(r -> r.explanation().contains("scaled by"));
  }

  @Test
  void untilThreeBlocksAreCompleteItScoresAsDiscordV2() {
    double[] series = recurringBumps();
    List<DetectorResult> v3 = run(new DiscordDetector(V3), series);
    List<DetectorResult> v2 = run(new DiscordDetector(V2), series);
    int blocksDone = LEARNING + DiscordDetector.MIN_BLOCKS * HISTORY;
    for (int i = 0; i < blocksDone; i++) {
      assertThat(v3.get(i).score()).as("row %d", i).isEqualTo(v2.get(i).score());
    }
    long fewerAlerts = 0;
    for (int i = blocksDone; i < series.length; i++) {
      fewerAlerts +=
          (v2.get(i).score() >= DiscordDetector.ALERT ? 1 : 0)
              - (v3.get(i).score() >= DiscordDetector.ALERT ? 1 : 0);
    }
    assertThat(fewerAlerts).isPositive();
  }

  @Test
  void stateWithoutBlockMaximaFromAnEarlierVersionGetsThem() {
    DiscordDetector detector = new DiscordDetector(V3);
    DiscordDetector.State state = detector.newState();
    state.blockMaxima = null; // as restored from state written before the surprise history
    double[] series = cycle(LEARNING + HISTORY + 5, 3);
    for (int i = 0; i < series.length; i++) {
      detector.update(state, i, series[i]);
    }
    assertThat(state.blockMaxima.count).isEqualTo(1);
    assertThat(state.inBlock).isEqualTo(5);
  }

  /** {@link #cycle} with a bump inside the range (a flattened stretch) every 600 to 900 values. */
  private static double[] recurringBumps() {
    return recurringBumps(7000, 11);
  }

  static double[] recurringBumps(int n, long seed) {
    double[] series = cycle(n, seed);
    Random random = new Random(seed + 1);
    for (int start = 500; start + 12 < series.length; start += 600 + random.nextInt(300)) {
      for (int i = start; i < start + 12; i++) {
        series[i] = 10.0 + 3.0 * random.nextDouble();
      }
    }
    return series;
  }

  /**
   * A daily-like cycle with noise; a spike far out of range at 600 (a range alert whose huge shape
   * distances must be clipped in the calibration), then a flattened cycle inside the range at 1200.
   */
  private static double[] spikeThenFlatCycle() {
    double[] series = cycle(1600, 9);
    series[600] = 60.0;
    for (int i = 1200; i < 1212; i++) {
      series[i] = 10.0;
    }
    return series;
  }

  /** The detector's results with {@code settings}, after checking each score against naive(). */
  private static List<DetectorResult> scoresEqualTheNaiveComputation(
      Settings settings, double[] series) {
    List<DetectorResult> actual = run(new DiscordDetector(settings), series);
    double[] expected = naive(series, settings);
    for (int i = 0; i < series.length; i++) {
      assertThat(actual.get(i).score()).as("row %d", i).isCloseTo(expected[i], within(1e-9));
    }
    return actual;
  }

  // --- the rules, written out naively over arrays (no ring buffers, no running sums)

  private static double[] naive(double[] x, Settings settings) {
    int n = x.length;
    double[] scores = new double[n];
    List<Double> raw = new ArrayList<>();
    List<Double> averages = new ArrayList<>();
    long lastAlert = -1;
    double lastSurprise = 0;
    List<Double> blockMaxima = new ArrayList<>();
    double blockMax = 0;
    for (int t = 0; t < n; t++) {
      int from = Math.max(0, t - HISTORY);
      double min = Double.NaN;
      double max = Double.NaN;
      if (t > 0) {
        min = Arrays.stream(x, 0, t).min().orElseThrow();
        max = Arrays.stream(x, 0, t).max().orElseThrow();
      }
      double average = Double.NaN;
      if (t - from >= 2 * SHINGLE + 1) {
        double best = Double.MAX_VALUE;
        // Candidate shapes x[e-11..e] lie in the history and end at least SHINGLE before t.
        for (int e = t - SHINGLE; e - SHINGLE + 1 >= from; e--) {
          double d = 0;
          for (int k = 0; k < SHINGLE; k++) {
            d += Math.pow(x[t - k] - x[e - k], 2);
          }
          best = Math.min(best, d);
        }
        raw.add(Math.sqrt(best));
        List<Double> recent = raw.subList(Math.max(0, raw.size() - SHORT), raw.size());
        average = recent.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      }
      double surprise = 0;
      if (!Double.isNaN(average) && averages.size() >= 10) {
        double[] window =
            averages.subList(Math.max(0, averages.size() - CALIBRATION), averages.size()).stream()
                .mapToDouble(Double::doubleValue)
                .toArray();
        double mean = Arrays.stream(window).average().orElseThrow();
        double variance =
            Arrays.stream(window).map(a -> (a - mean) * (a - mean)).average().orElseThrow();
        double spread = Math.max(Math.sqrt(variance), 1e-3 * (max - min));
        surprise = (average - mean) / spread;
        average = Math.min(average, mean + settings.clip() * spread);
      }
      if (t >= LEARNING && settings.surpriseBlocks() > 0) {
        List<Double> kept =
            blockMaxima.subList(
                Math.max(0, blockMaxima.size() - settings.surpriseBlocks()), blockMaxima.size());
        double scale = 1.0;
        if (kept.size() >= DiscordDetector.MIN_BLOCKS) {
          double[] sorted = kept.stream().mapToDouble(Double::doubleValue).sorted().toArray();
          double median = sorted[(sorted.length - 1) / 2];
          scale = Math.min(1.0, DiscordDetector.ALERT_SURPRISE / median);
        }
        blockMax = Math.max(blockMax, Math.min(surprise, DiscordDetector.SURPRISE_CAP));
        if ((t - LEARNING + 1) % HISTORY == 0) {
          blockMaxima.add(blockMax);
          blockMax = 0;
        }
        if (surprise > 0) {
          surprise *= scale;
        }
      }
      if (t >= LEARNING) {
        double score = surprise <= 0 ? 0 : 0.99 * surprise * surprise / (surprise * surprise + 25);
        double beyond = Math.max(x[t] - max, min - x[t]);
        if (max > min && beyond > 0.05 * (max - min)) {
          score = 0.99 + 0.01 * beyond / (beyond + max - min);
          surprise = Double.POSITIVE_INFINITY;
        }
        long since = lastAlert < 0 ? Long.MAX_VALUE : t - lastAlert;
        if (since <= DiscordDetector.REFRACTORY
            || (since <= settings.incident()
                && surprise < DiscordDetector.ESCALATION * lastSurprise)) {
          score *= 0.1;
        } else if (score >= DiscordDetector.ALERT) {
          lastAlert = t;
          lastSurprise = surprise;
        }
        scores[t] = score;
      }
      if (!Double.isNaN(average)) {
        averages.add(average);
      }
    }
    return scores;
  }

  private static List<DetectorResult> run(AnomalyDetector<?> detector, double[] series) {
    @SuppressWarnings("unchecked")
    AnomalyDetector<Object> d = (AnomalyDetector<Object>) detector;
    Object state = d.newState();
    List<DetectorResult> out = new ArrayList<>();
    for (int i = 0; i < series.length; i++) {
      out.add(d.update(state, 1_700_000_000_000L + 60_000L * i, series[i]));
    }
    return out;
  }

  /** A 24-value cycle between 5 and 15 with a little noise. */
  private static double[] cycle(int n, long seed) {
    Random random = new Random(seed);
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = 10.0 + 5.0 * Math.sin(2 * Math.PI * i / 24.0) + 0.05 * random.nextGaussian();
    }
    return values;
  }
}
