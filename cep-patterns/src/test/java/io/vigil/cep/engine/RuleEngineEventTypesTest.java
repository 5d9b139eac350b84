package io.vigil.cep.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.schemas.Alert;
import io.vigil.schemas.AlertKind;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.time.Instant;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * A rule sees only events of its {@code eventTypes}: in a job whose engine also receives anomaly
 * scores, a score between two readings must not break a reading-only rule's strict contiguity,
 * whatever order a reading and its own score (same key, same event time) arrive in.
 */
class RuleEngineEventTypesTest {

  private static final Schema ENVELOPE =
      RuleEnvelopes.schema(List.of(SensorReading.getClassSchema(), AnomalyScore.getClassSchema()));

  private static final String SPIKE = TestEvents.SPIKE_RULE;

  /** The same rule alerting on timeouts too, which Flink's NFA runs rather than SequenceMatcher. */
  private static final String SPIKE_WITH_TIMEOUTS =
      SPIKE.replace("afterMatch: skip-past-last-event", "afterMatch: skip-past-last-event\nemit:\n  alerts: [match, timeout]");

  private static final String SPIKE_OR_SCORE =
      """
      id: spike-or-score
      version: 1
      severity: high
      eventTypes: [SensorReading, AnomalyScore]
      key: deviceId
      within: 5 min
      afterMatch: skip-past-last-event
      pattern:
        - name: before
          eventType: SensorReading
          where: "true"
        - name: spike
          eventType: SensorReading
          after: next
          where: "temperature >= last(before).temperature + 10.0"
      """;

  private static GenericRecord reading(String id, long time, double temperature) {
    return TestEvents.envelope(
        ENVELOPE,
        SensorReading.newBuilder().setEventId(id).setDeviceId("d1").setSite("s").setEventTime(Instant.ofEpochMilli(time))
            .setTemperature(temperature).setHumidity(40).setBattery(80).setStatus(DeviceStatus.OK).setFirmware("1").build(),
        "d1",
        time);
  }

  private static GenericRecord score(long time) {
    return RuleEnvelopes.score(
        ENVELOPE,
        AnomalyScore.newBuilder().setKey("d1").setEventType("SensorReading").setField("temperature").setEventTime(time)
            .setValue(35).setScore(0.95).setAnomalous(true).setDetector("ewma").setExplanation("test").setWarmUp(false)
            .setSource(new SourceRef("events", 0, 99L, null)).build());
  }

  private static List<String> run(String rule, List<GenericRecord> input) throws Exception {
    try (KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, rule), 0);
      for (GenericRecord e : input) {
        h.processElement(e, io.vigil.functions.event.Envelopes.eventTime(e));
      }
      h.processWatermark(400_000);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      return h.extractOutputValues().stream()
          .filter(a -> a.getKind() == AlertKind.MATCH)
          .map(a -> a.getRuleId() + " " + TestEvents.canonical(a))
          .toList();
    }
  }

  @Test
  void aScoreArrivingBeforeItsReadingDoesNotBreakAReadingOnlyRulesStrictContiguity() throws Exception {
    assertThat(run(SPIKE, List.of(reading("a", 1_000, 20), score(11_000), reading("b", 11_000, 35))))
        .containsExactly("spike before=[a];spike=[b]");
    assertThat(run(SPIKE, List.of(reading("a", 1_000, 20), reading("b", 11_000, 35), score(11_000))))
        .containsExactly("spike before=[a];spike=[b]");
    assertThat(run(SPIKE_WITH_TIMEOUTS, List.of(reading("a", 1_000, 20), score(11_000), reading("b", 11_000, 35))))
        .containsExactly("spike before=[a];spike=[b]");
  }

  @Test
  void aRuleThatReadsScoresSeesThemInItsContiguity() throws Exception {
    // Declared in eventTypes, the score is one of the rule's events: between two readings it
    // breaks `next`, exactly as Flink CEP over that mixed stream would.
    assertThat(run(SPIKE_OR_SCORE, List.of(reading("a", 1_000, 20), score(11_000), reading("b", 11_000, 35))))
        .isEmpty();
    assertThat(run(SPIKE_OR_SCORE, List.of(reading("a", 1_000, 20), reading("b", 11_000, 35), score(11_000))))
        .containsExactly("spike-or-score before=[a];spike=[b]");
  }
}
