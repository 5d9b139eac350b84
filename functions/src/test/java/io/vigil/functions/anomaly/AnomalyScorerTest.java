package io.vigil.functions.anomaly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The keyed anomaly operator under Flink's operator test harness, with explicit watermarks. */
class AnomalyScorerTest {

  private static final String EVENT_TYPE = "SensorReading";
  private static final Schema ENVELOPE_SCHEMA = Envelopes.schema(SensorReading.getClassSchema());
  private static final long MINUTE = 60_000L;
  private static final long START = 1_700_000_000_000L;

  private long offset;

  static List<String> detectors() {
    return Detectors.NAMES;
  }

  @Test
  void ewmaExpectsTheExponentiallyWeightedMeanOfEarlierValues() throws Exception {
    double[] series = noisySeries(200, 7);
    List<AnomalyScore> scores = run(spec(EwmaDetector.NAME), "d1", series);
    double alpha = 0.02;
    for (int n = 30; n < series.length; n++) {
      // Closed form of the recursion m1 = x1, m = m + alpha (x - m), over the first n values.
      double mean = Math.pow(1 - alpha, n - 1) * series[0];
      for (int k = 1; k < n; k++) {
        mean += alpha * Math.pow(1 - alpha, n - 1 - k) * series[k];
      }
      assertThat(scores.get(n).getExpected()).as("row %d", n).isCloseTo(mean, within(1e-9));
      assertThat(scores.get(n).getWarmUp()).isFalse();
    }
    assertThat(scores.subList(0, 30)).allMatch(s -> s.getWarmUp() && !s.getAnomalous());
  }

  @Test
  void robustZScoresTheDistanceFromTheMedianInMadSigmas() throws Exception {
    double[] series = noisySeries(400, 11);
    series[350] = 40.0;
    List<AnomalyScore> scores = run(spec(RobustZDetector.NAME), "d1", series);
    for (int n = 30; n < series.length; n++) {
      double[] window = Arrays.copyOfRange(series, Math.max(0, n - 288), n);
      double median = quantileMedian(window);
      double mad = quantileMedian(Arrays.stream(window).map(v -> Math.abs(v - median)).toArray());
      double z = (series[n] - median) / (1.4826 * mad);
      assertThat(scores.get(n).getExpected()).as("row %d", n).isCloseTo(median, within(1e-12));
      assertThat(scores.get(n).getScore()).as("row %d", n).isCloseTo(z * z / (z * z + 9), within(1e-12));
    }
    assertThat(scores.get(350).getAnomalous()).isTrue();
    assertThat(scores.get(350).getExplanation()).contains("sigma above the median");
  }

  @Test
  void likelihoodScoresAValueBeyondEveryEarlierValueAsOne() throws Exception {
    double[] series = noisySeries(600, 3);
    series[500] = 60.0;
    List<AnomalyScore> scores = run(spec(LikelihoodDetector.NAME), "d1", series);
    assertThat(scores.subList(0, 300)).allMatch(AnomalyScore::getWarmUp);
    assertThat(scores.get(500).getScore()).isEqualTo(1.0);
    assertThat(scores.get(500).getAnomalous()).isTrue();
    assertThat(scores.get(500).getExplanation()).startsWith("outside the range");
    long alarms = scores.stream().filter(AnomalyScore::getAnomalous).count();
    assertThat(alarms).as("alarms on stationary noise plus one spike").isLessThanOrEqualTo(3);
  }

  @Test
  void discordFlagsAChangeOfShapeWithinTheUsualRangeAndAlertsOnce() throws Exception {
    // A 24-value cycle with a little noise; one cycle loses its peak (the values stay within the
    // range seen so far), which only a shape comparison can tell apart from normal.
    Random random = new Random(9);
    double[] series = new double[700];
    for (int i = 0; i < series.length; i++) {
      series[i] = 10.0 + 5.0 * Math.sin(2 * Math.PI * i / 24.0) + 0.05 * random.nextGaussian();
    }
    for (int i = 600; i < 612; i++) {
      series[i] = 10.0 + 0.05 * random.nextGaussian();
    }
    List<AnomalyScore> scores = run(spec(DiscordDetector.NAME), "d1", series);
    assertThat(scores.subList(0, 300)).allMatch(AnomalyScore::getWarmUp);
    List<Integer> alerts = new ArrayList<>();
    for (int i = 300; i < series.length; i++) {
      if (scores.get(i).getScore() >= DiscordDetector.ALERT) {
        alerts.add(i);
      }
    }
    assertThat(alerts).as("alerts").hasSize(1);
    // The shapes that contain a flattened value: the 12 flat rows and the 12-value shapes after.
    assertThat(alerts.get(0)).isBetween(600, 611 + 12);
    assertThat(scores.get(alerts.get(0)).getExplanation()).contains("shape");
    // The incident keeps the raw score high right after the alert: reported at a tenth.
    assertThat(scores.get(alerts.get(0) + 1).getExplanation()).contains("reported at a tenth");
    assertThat(scores.get(alerts.get(0) + DiscordDetector.REFRACTORY + 1).getExplanation())
        .doesNotContain("reported at a tenth");
  }

  @Test
  void discordScoresDoNotDependOnTheUnitOfTheSignal() throws Exception {
    // The shape-change series of the test above, once as is and once in a unit 2^20 times larger
    // (e.g. mega-units): scaling by a power of two is exact in floating point, so every score of
    // the small-unit run must equal the score of the same row in the original unit.
    Random random = new Random(9);
    double[] series = new double[700];
    for (int i = 0; i < series.length; i++) {
      series[i] = 10.0 + 5.0 * Math.sin(2 * Math.PI * i / 24.0) + 0.05 * random.nextGaussian();
    }
    for (int i = 600; i < 612; i++) {
      series[i] = 10.0 + 0.05 * random.nextGaussian();
    }
    double[] tiny = Arrays.stream(series).map(v -> Math.scalb(v, -20)).toArray();
    List<Double> original = scoresOf(run(spec(DiscordDetector.NAME), "d1", series), "d1");
    List<Double> scaled = scoresOf(run(spec(DiscordDetector.NAME), "d1", tiny), "d1");
    assertThat(original).anyMatch(score -> score >= DiscordDetector.ALERT);
    assertThat(scaled).containsExactlyElementsOf(original);
  }

  @Test
  void discordScoresValuesBeyondTheRangeByTheirDistanceAndDeduplicatesTheSecond()
      throws Exception {
    double[] series = noisySeries(600, 3);
    series[500] = 60.0;
    series[510] = 70.0;
    List<AnomalyScore> scores = run(spec(DiscordDetector.NAME), "d1", series);
    double[] before = Arrays.copyOf(series, 500);
    double min = Arrays.stream(before).min().orElseThrow();
    double max = Arrays.stream(before).max().orElseThrow();
    double first = 0.99 + 0.01 * (60.0 - max) / (60.0 - max + max - min);
    // 60 widens the range, and 70 lies beyond it, but within the refractory period of the first.
    double second = 0.1 * (0.99 + 0.01 * (70.0 - 60.0) / (70.0 - 60.0 + 60.0 - min));
    assertThat(scores.get(500).getScore()).isCloseTo(first, within(1e-12));
    assertThat(scores.get(500).getAnomalous()).isTrue();
    assertThat(scores.get(500).getExplanation()).startsWith("outside the range");
    assertThat(scores.get(510).getScore()).isCloseTo(second, within(1e-12));
    assertThat(scores.get(510).getAnomalous()).isFalse();
  }

  @ParameterizedTest
  @MethodSource("detectors")
  void operatorScoresEqualTheDetectorRunDirectlyAndKeysDoNotMix(String name) throws Exception {
    double[] a = noisySeries(500, 1);
    double[] b = noisySeries(500, 2);
    AnomalyDetector<Object> direct = detector(name);
    Object stateA = direct.newState();
    Object stateB = direct.newState();
    List<Double> expectedA = new ArrayList<>();
    List<Double> expectedB = new ArrayList<>();
    for (int i = 0; i < a.length; i++) {
      expectedA.add(direct.update(stateA, START + i * MINUTE, a[i]).score());
      expectedB.add(direct.update(stateB, START + i * MINUTE, b[i]).score());
    }
    try (var harness = open(spec(name))) {
      for (int i = 0; i < a.length; i++) {
        send(harness, reading("a", START + i * MINUTE, a[i]));
        send(harness, reading("b", START + i * MINUTE, b[i]));
      }
      List<AnomalyScore> out = harness.extractOutputValues();
      assertThat(scoresOf(out, "a")).isEqualTo(expectedA);
      assertThat(scoresOf(out, "b")).isEqualTo(expectedB);
      assertThat(out).allMatch(s -> s.getDetector().equals(name) && s.getField().equals("temperature"));
      assertThat(out).allMatch(s -> s.getScore() >= 0.0 && s.getScore() <= 1.0);
    }
  }

  @ParameterizedTest
  @MethodSource("detectors")
  void scoresAfterASnapshotAndRestoreEqualAnUninterruptedRun(String name) throws Exception {
    double[] series = noisySeries(800, 5);
    series[650] = 45.0;
    List<AnomalyScore> uninterrupted = run(spec(name), "d1", series);

    int cut = 420;
    offset = 0;
    OperatorSubtaskState snapshot;
    List<AnomalyScore> restored = new ArrayList<>();
    try (var first = open(spec(name))) {
      for (int i = 0; i < cut; i++) {
        send(first, reading("d1", START + i * MINUTE, series[i]));
      }
      restored.addAll(first.extractOutputValues());
      snapshot = first.snapshot(1L, START + cut * MINUTE);
    }
    try (var second = harness(spec(name))) {
      second.initializeState(snapshot);
      second.open();
      for (int i = cut; i < series.length; i++) {
        send(second, reading("d1", START + i * MINUTE, series[i]));
      }
      restored.addAll(second.extractOutputValues());
    }
    assertThat(restored).isEqualTo(uninterrupted);
  }

  @Test
  void silentKeyLosesItsStateAndTimersAfterTheIdleTimeout() throws Exception {
    DetectorSpec spec =
        new DetectorSpec(
            "temp", List.of("temperature"), EwmaDetector.NAME, 0.9, List.of(), Duration.ofHours(1));
    try (var harness = open(spec)) {
      for (int i = 0; i < 40; i++) {
        send(harness, reading("d1", START + i * MINUTE, 20.0 + i % 3));
      }
      long last = START + 39 * MINUTE;
      assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
      assertThat(harness.numEventTimeTimers()).isEqualTo(1);
      harness.processWatermark(last + 60 * MINUTE - 1);
      assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
      harness.processWatermark(last + 60 * MINUTE);
      assertThat(harness.numKeyedStateEntries()).isZero();
      assertThat(harness.numEventTimeTimers()).isZero();
      harness.getOutput().clear();
      send(harness, reading("d1", last + 61 * MINUTE, 21.0));
      assertThat(harness.extractOutputValues().get(0).getWarmUp()).isTrue();
    }
  }

  @Test
  void unscorableEventsBecomeDeadLettersAndAreNotScored() throws Exception {
    DetectorSpec spec = spec(EwmaDetector.NAME);
    DetectorSpec missing =
        new DetectorSpec(
            "p", List.of("pressure"), EwmaDetector.NAME, 0.9, List.of(), Duration.ofDays(1));
    try (var harness = open(spec)) {
      send(harness, reading("d1", START, Double.NaN));
      GenericRecord failed =
          Envelopes.failed(
              ENVELOPE_SCHEMA,
              new SourceRef("sensors", 0, 99L, null),
              new byte[] {1},
              DeadLetterReason.UNDECODABLE,
              "bad bytes");
      harness.processElement(failed, START);
      assertThat(harness.extractOutputValues()).isEmpty();
      List<DeadLetter> dead = deadLetters(harness);
      assertThat(dead).extracting(DeadLetter::getReason)
          .containsExactly(DeadLetterReason.WRONG_TYPE, DeadLetterReason.UNDECODABLE);
      assertThat(dead.get(0).getMessage()).contains("'temperature'", "not a finite number");
      assertThat(dead.get(0).getStage()).isEqualTo("anomaly-temp");
      assertThat(harness.numKeyedStateEntries()).isZero();
    }
    try (var harness = open(missing)) {
      send(harness, reading("d1", START, 20.0));
      assertThat(harness.extractOutputValues()).isEmpty();
      assertThat(deadLetters(harness)).extracting(DeadLetter::getReason)
          .containsExactly(DeadLetterReason.MISSING_FIELD);
    }
  }

  // --- helpers

  private static DetectorSpec spec(String detector) {
    return DetectorSpec.of("temp", detector, List.of("temperature"));
  }

  @SuppressWarnings("unchecked")
  private static AnomalyDetector<Object> detector(String name) {
    return (AnomalyDetector<Object>) Detectors.create(name);
  }

  private List<AnomalyScore> run(DetectorSpec spec, String key, double[] series) throws Exception {
    try (var harness = open(spec)) {
      for (int i = 0; i < series.length; i++) {
        send(harness, reading(key, START + i * MINUTE, series[i]));
      }
      return harness.extractOutputValues();
    }
  }

  private static KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, AnomalyScore> harness(
      DetectorSpec spec) throws Exception {
    return new KeyedOneInputStreamOperatorTestHarness<>(
        new KeyedProcessOperator<>(new AnomalyScorer(spec, EVENT_TYPE)),
        envelope -> Envelopes.isFailed(envelope) ? "" : Envelopes.key(envelope),
        Types.STRING);
  }

  private static KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, AnomalyScore> open(
      DetectorSpec spec) throws Exception {
    var harness = harness(spec);
    harness.open();
    return harness;
  }

  private static void send(
      KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, AnomalyScore> harness,
      GenericRecord envelope)
      throws Exception {
    harness.processElement(envelope, Envelopes.eventTime(envelope));
  }

  private static List<DeadLetter> deadLetters(
      KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, AnomalyScore> harness) {
    var side = harness.getSideOutput(AnomalyScorer.REJECTED);
    return side == null ? List.of() : side.stream().map(r -> r.getValue()).collect(Collectors.toList());
  }

  private static List<Double> scoresOf(List<AnomalyScore> out, String key) {
    return out.stream().filter(s -> s.getKey().equals(key)).map(AnomalyScore::getScore).toList();
  }

  private GenericRecord reading(String deviceId, long eventTime, double temperature) {
    Schema schema = SensorReading.getClassSchema();
    GenericRecord event = new GenericData.Record(schema);
    event.put("eventId", "e" + offset);
    event.put("deviceId", deviceId);
    event.put("site", "s1");
    event.put("eventTime", eventTime);
    event.put("temperature", temperature);
    event.put("humidity", 50.0);
    event.put("battery", 90.0);
    event.put("status", new GenericData.EnumSymbol(schema.getField("status").schema(), "OK"));
    event.put("firmware", "v2");
    long n = offset++;
    return Envelopes.valid(
        ENVELOPE_SCHEMA,
        new SourceRef("sensors", 0, n, null),
        ("payload-" + n).getBytes(StandardCharsets.UTF_8),
        deviceId,
        eventTime,
        event);
  }

  /** Gaussian noise around 20 with a daily-looking sine, reproducible from {@code seed}. */
  static double[] noisySeries(int n, long seed) {
    Random random = new Random(seed);
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = 20.0 + 2.0 * Math.sin(2 * Math.PI * i / 288.0) + random.nextGaussian();
    }
    return values;
  }

  /** Median by sorting a copy (the oracle for the detector's ring-buffer median). */
  private static double quantileMedian(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
  }
}
