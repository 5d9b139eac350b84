package io.vigil.functions.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * {@code discord-v3} in the keyed operator under Flink's test harness, over series long enough for
 * its surprise history (blocks of 1000 values after a warm-up of 300) to be in use when the state
 * is snapshotted, restored or cleared.
 */
class DiscordV3ScorerTest {

  private static final String EVENT_TYPE = "SensorReading";
  private static final Schema ENVELOPE_SCHEMA = Envelopes.schema(SensorReading.getClassSchema());
  private static final long MINUTE = 60_000L;
  private static final long START = 1_700_000_000_000L;
  private static final String NAME = DiscordDetector.NAME_V3;

  private long offset;

  @Test
  void scoresAfterASnapshotAndRestoreEqualAnUninterruptedRun() throws Exception {
    double[] series = recurringBumps(6000, 21);
    List<AnomalyScore> uninterrupted = new ArrayList<>();
    try (var harness = open(spec(Duration.ofDays(30)))) {
      for (int i = 0; i < series.length; i++) {
        send(harness, reading("d1", START + i * MINUTE, series[i]));
      }
      uninterrupted.addAll(harness.extractOutputValues());
    }
    // The surprise history scales some scores, also after the cut.
    int cut = 4321;
    assertThat(uninterrupted.subList(cut, series.length))
        .anyMatch(s -> s.getExplanation().contains("scaled by"));

    offset = 0;
    OperatorSubtaskState snapshot;
    List<AnomalyScore> restored = new ArrayList<>();
    try (var first = open(spec(Duration.ofDays(30)))) {
      for (int i = 0; i < cut; i++) {
        send(first, reading("d1", START + i * MINUTE, series[i]));
      }
      restored.addAll(first.extractOutputValues());
      snapshot = first.snapshot(1L, START + cut * MINUTE);
    }
    try (var second = harness(spec(Duration.ofDays(30)))) {
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
  void aSilentKeyLosesItsSurpriseHistoryAndStartsAfresh() throws Exception {
    double[] series = recurringBumps(4500, 22);
    try (var harness = open(spec(Duration.ofHours(1)))) {
      for (int i = 0; i < series.length; i++) {
        send(harness, reading("d1", START + i * MINUTE, series[i]));
      }
      assertThat(harness.extractOutputValues())
          .anyMatch(s -> s.getExplanation().contains("scaled by"));
      long last = START + (series.length - 1) * MINUTE;
      assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
      harness.processWatermark(last + 60 * MINUTE);
      assertThat(harness.numKeyedStateEntries()).isZero();
      assertThat(harness.numEventTimeTimers()).isZero();

      // The same series again: a fresh model (warm-up, no history) scores it exactly as before.
      harness.getOutput().clear();
      List<Double> again = new ArrayList<>();
      long restart = last + 61 * MINUTE;
      for (int i = 0; i < series.length; i++) {
        send(harness, reading("d1", restart + i * MINUTE, series[i]));
      }
      harness.extractOutputValues().forEach(s -> again.add(s.getScore()));
      assertThat(harness.extractOutputValues().get(0).getWarmUp()).isTrue();
      DiscordDetector direct = new DiscordDetector(DiscordDetector.Settings.DISCORD_V3);
      DiscordDetector.State state = direct.newState();
      List<Double> expected = new ArrayList<>();
      for (int i = 0; i < series.length; i++) {
        expected.add(direct.update(state, 0L, series[i]).score());
      }
      assertThat(again).isEqualTo(expected);
    }
  }

  private static double[] recurringBumps(int n, long seed) {
    return DiscordDetectorTest.recurringBumps(n, seed);
  }

  private static DetectorSpec spec(Duration idleTimeout) {
    return new DetectorSpec("temp", List.of("temperature"), NAME, 0.9, List.of(), idleTimeout);
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
}
