package io.vigil.cep.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.cep.compile.RuleCompiler;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.RuleState;
import io.vigil.schemas.RuleStatus;
import io.vigil.schemas.SensorReading;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.Test;

class RuleEngineTest {

  private static final Schema ENVELOPE = Envelopes.schema(SensorReading.getClassSchema());

  private static final String HOT_V1 =
      """
      id: hot
      version: 1
      severity: high
      eventTypes: [SensorReading]
      key: deviceId
      within: 10 s
      afterMatch: skip-past-last-event
      emit:
        alerts: [match, timeout]
      pattern:
        - name: warm
          where: temperature > 30
        - name: hot
          after: followedBy
          where: temperature > first(warm).temperature + 10.0
      """;

  private static final String HOT_V2 = HOT_V1.replace("version: 1", "version: 2").replace("+ 10.0", "+ 20.0");

  /** The same rule alerting on matches only: a simple sequence, run by {@link SequenceMatcher}. */
  private static final String HOT_MATCHES_V1 = HOT_V1.replace("emit:\n  alerts: [match, timeout]\n", "");

  private static final String HOT_MATCHES_V2 = HOT_V2.replace("emit:\n  alerts: [match, timeout]\n", "");

  private static GenericRecord reading(String device, String id, long time, double temperature) {
    return TestEvents.reading(ENVELOPE, device, id, time, temperature);
  }

  private static List<String> alerts(KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h) {
    return h.extractOutputValues().stream()
        .map(a -> a.getKind() + " " + a.getRuleId() + "@" + a.getRuleVersion() + " " + a.getKey() + " " + TestEvents.canonical(a))
        .toList();
  }

  private static List<RuleStatus> statuses(KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h) {
    return h.getSideOutput(RuleEngine.STATUS).stream().map(StreamRecord::getValue).toList();
  }

  @Test
  void alertsOnAMatchAndClearsAllKeyedStateWhenMatchesEnd() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processElement(reading("d1", "b", 2_000, 45), 2_000);
      h.processElement(reading("d2", "c", 2_500, 35), 2_500);
      h.processWatermark(3_000);
      assertThat(alerts(h)).containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]");
      assertThat(TestEvents.numKeyedStateEntries(h)).isGreaterThan(0);
      h.processWatermark(20_000);
      assertThat(alerts(h))
          .containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]", "TIMEOUT hot@1 d2 warm=[c]");
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }

  @Test
  void matchesEventsThatArrivedBeforeTheFirstRuleButAfterTheWatermarkItTookEffectAt() throws Exception {
    // A job's start-up rules reach each engine instance through a broadcast stream and can arrive
    // after the first events; those events are still ahead of the watermark, so the rule applies.
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processElement(reading("d1", "b", 2_000, 45), 2_000);
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      h.processElement(reading("d2", "c", 2_500, 35), 2_500);
      h.processWatermark(20_000);
      assertThat(alerts(h))
          .containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]", "TIMEOUT hot@1 d2 warm=[c]");
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }

  @Test
  void eventsBufferedWithNoRuleLeaveNoStateOnceTheWatermarkPasses() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processElement(reading("d2", "b", 2_000, 45), 2_000);
      h.processWatermark(3_000);
      assertThat(alerts(h)).isEmpty();
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }

  private static List<String> matches(KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h) {
    return alerts(h).stream().filter(a -> a.startsWith("MATCH")).toList();
  }

  @Test
  void updateLetsOldPartialMatchesFinishUnderTheOldVersionAndNewEventsUseTheNewOne() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processWatermark(1_500);
      h.processBroadcastElement(TestEvents.command(RuleAction.UPDATE, HOT_V2), 0);
      // d1: a's v1 partial match completes with b under v1; b, c and d only ever see v2.
      h.processElement(reading("d1", "b", 2_000, 45), 2_000);
      h.processElement(reading("d1", "c", 3_000, 32), 3_000);
      h.processElement(reading("d1", "d", 4_000, 70), 4_000);
      // d2 starts after the update: 45 is hot under v1 (31 + 10) but not under v2 (31 + 20).
      h.processElement(reading("d2", "e", 2_500, 31), 2_500);
      h.processElement(reading("d2", "f", 3_500, 45), 3_500);
      h.processWatermark(5_000);
      assertThat(matches(h)).containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]", "MATCH hot@2 d1 warm=[b];hot=[d]");
      assertThat(statuses(h))
          .extracting(RuleStatus::getAccepted, RuleStatus::getState, RuleStatus::getActiveVersion, RuleStatus::getWatermark)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(true, RuleState.ACTIVE, 1, Long.MIN_VALUE),
              org.assertj.core.groups.Tuple.tuple(true, RuleState.ACTIVE, 2, 1_500L));
      h.processWatermark(Long.MAX_VALUE);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }

  @Test
  void disableDropsPartialMatchesAndEnableStartsAfresh() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processWatermark(1_500);
      h.processBroadcastElement(TestEvents.command(RuleAction.DISABLE, "hot", null), 0);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      h.processElement(reading("d1", "b", 2_000, 45), 2_000);
      h.processWatermark(2_500);
      assertThat(alerts(h)).isEmpty();
      h.processBroadcastElement(TestEvents.command(RuleAction.ENABLE, "hot", null), 0);
      h.processElement(reading("d1", "c", 3_000, 42), 3_000);
      h.processElement(reading("d1", "d", 4_000, 55), 4_000);
      h.processWatermark(5_000);
      assertThat(alerts(h)).containsExactly("MATCH hot@1 d1 warm=[c];hot=[d]");
      assertThat(statuses(h)).extracting(RuleStatus::getState).containsExactly(RuleState.ACTIVE, RuleState.DISABLED, RuleState.ACTIVE);
    }
  }

  @Test
  void deleteDropsTheRulesStateForEveryKey() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      for (int i = 0; i < 5; i++) {
        h.processElement(reading("d" + i, "a" + i, 1_000, 31), 1_000);
      }
      h.processWatermark(1_500);
      assertThat(TestEvents.numKeyedStateEntries(h)).isGreaterThanOrEqualTo(5);
      h.processBroadcastElement(TestEvents.command(RuleAction.DELETE, "hot", null), 0);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      h.processElement(reading("d1", "b", 2_000, 45), 2_000);
      h.processWatermark(Long.MAX_VALUE);
      assertThat(alerts(h)).isEmpty();
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      assertThat(statuses(h)).extracting(RuleStatus::getState).containsExactly(RuleState.ACTIVE, RuleState.DELETED);
    }
  }

  @Test
  void rejectedCommandsReportTheErrorAndLeaveRunningRulesAlone() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processWatermark(1_500);
      String typo = HOT_V2.replace("first(warm).temperature", "first(warm).temprature");
      h.processBroadcastElement(TestEvents.command(RuleAction.UPDATE, typo), 0);
      h.processBroadcastElement(TestEvents.command(RuleAction.UPDATE, HOT_V1), 0);
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1.replace("id: hot", "id: other").replace("key: deviceId", "key: site")), 0);
      h.processBroadcastElement(TestEvents.command(RuleAction.DELETE, "missing", null), 0);
      h.processElement(reading("d1", "b", 2_000, 45), 2_000);
      h.processWatermark(2_500);
      assertThat(alerts(h)).containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]");
      List<RuleStatus> s = statuses(h);
      assertThat(s).extracting(RuleStatus::getAccepted).containsExactly(true, false, false, false, false);
      String where = "temperature > first(warm).temprature + 20.0";
      assertThat(s.get(1).getError())
          .isEqualTo("rule 'hot' line 15: hot.where: undefined field 'temprature' (column " + (where.indexOf(".temprature") + 1) + ")");
      assertThat(s.get(2).getError()).contains("version 1 is not newer than version 1");
      assertThat(s.get(3).getError()).contains("this job is keyed by 'deviceId', not 'site'");
      assertThat(s.get(4).getError()).contains("no rule 'missing'");
      assertThat(s.subList(1, 5)).extracting(RuleStatus::getState).containsOnly(RuleState.UNCHANGED);
    }
  }

  @Test
  void restoresRulesAndPartialMatchesFromACheckpoint() throws Exception {
    OperatorSubtaskState snapshot;
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processElement(reading("d1", "b", 1_800, 45), 1_800);
      h.processWatermark(1_500);
      snapshot = h.snapshot(1, 1);
    }
    try (var restored = TestEvents.restoredHarness(ENVELOPE, "deviceId", snapshot)) {
      // b was still buffered behind the watermark at the checkpoint; a's partial match was in the NFA.
      restored.processWatermark(2_000);
      assertThat(alerts(restored)).containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]");
      assertThat(restored.getBroadcastState(RuleEngine.RULES).get("hot").getVersions()).hasSize(1);
    }
  }

  @Test
  void lateEventsBecomeDeadLetters() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      h.processWatermark(5_000);
      h.processElement(reading("d1", "late", 5_000, 31), 5_000);
      h.processElement(reading("d1", "hot", 5_001, 31), 5_001);
      assertThat(h.getSideOutput(RuleEngine.DEAD_LETTERS))
          .singleElement()
          .satisfies(r -> {
            assertThat(r.getValue().getReason()).isEqualTo(io.vigil.schemas.DeadLetterReason.LATE_EVENT);
            assertThat(r.getValue().getStage()).isEqualTo("rules");
            assertThat(r.getValue().getMessage()).isEqualTo("event time 5000 is not after the rule engine's watermark 5000");
          });
    }
  }

  @Test
  void alertIdsAreDeterministic() throws Exception {
    List<String> ids = new java.util.ArrayList<>();
    for (int run = 0; run < 2; run++) {
      try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
        h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
        h.processElement(reading("d1", "a", 1_000, 31), 1_000);
        h.processElement(reading("d1", "b", 2_000, 45), 2_000);
        h.processWatermark(3_000);
        ids.add(h.extractOutputValues().get(0).getAlertId());
      }
    }
    assertThat(ids.get(0)).isEqualTo(ids.get(1)).hasSize(64);
    assertThat(ids.get(0)).isEqualTo(Alerts.sha256("MATCH|hot|1|d1|a|b"));
  }

  @Test
  void aRuleWithoutTimeoutAlertsRunsAsASimpleSequenceAndClearsItsStateWhenNoMatchIsLeft() throws Exception {
    assertThat(SequenceMatcher.of(RuleCompiler.compile(HOT_MATCHES_V1))).isNotNull();
    assertThat(SequenceMatcher.of(RuleCompiler.compile(HOT_V1))).as("timeouts need the NFA").isNull();
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_MATCHES_V1), 0);
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processElement(reading("d1", "b", 2_000, 45), 2_000);
      h.processElement(reading("d2", "c", 2_500, 35), 2_500);
      h.processElement(reading("d3", "d", 2_600, 20), 2_600);
      h.processWatermark(3_000);
      assertThat(alerts(h)).containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]");
      // d2's partial match: its matches, the per-key record of the versions with state, and the
      // time of its expiry timer.
      assertThat(TestEvents.numKeyedStateEntries(h)).isEqualTo(3);
      h.processWatermark(20_000);
      assertThat(alerts(h)).containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]");
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }

  @Test
  void aSimpleSequenceKeepsOneExpiryTimerPerKeyAndReleasesAHeldMatchInTheStepItsBlockerExpires() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_MATCHES_V1), 0);
      // a waits for a reading above 55; b's match with c completes but is held back (skip past
      // last event) while a, which started before it, may still complete.
      h.processElement(reading("d1", "a", 1_000, 45), 1_000);
      h.processWatermark(1_000);
      h.processElement(reading("d1", "b", 2_000, 31), 2_000);
      h.processWatermark(2_000);
      h.processElement(reading("d1", "c", 3_000, 50), 3_000);
      h.processWatermark(3_000);
      assertThat(alerts(h)).isEmpty();
      // Three partial matches, one timer: at a's window end, the earliest.
      assertThat(h.numEventTimeTimers()).isEqualTo(1);
      h.processWatermark(10_999);
      assertThat(alerts(h)).isEmpty();
      // a expires: b's match goes, and pruning past c leaves nothing.
      h.processWatermark(11_000);
      assertThat(alerts(h)).containsExactly("MATCH hot@1 d1 warm=[b];hot=[c]");
      assertThat(h.numEventTimeTimers()).isZero();
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }

  @Test
  void aSimpleSequenceUpdateLetsOldPartialMatchesFinishAndDisableAndDeleteDropTheirState() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_MATCHES_V1), 0);
      h.processElement(reading("d1", "a", 1_000, 31), 1_000);
      h.processWatermark(1_500);
      h.processBroadcastElement(TestEvents.command(RuleAction.UPDATE, HOT_MATCHES_V2), 0);
      h.processElement(reading("d1", "b", 2_000, 45), 2_000);
      h.processElement(reading("d1", "c", 3_000, 32), 3_000);
      h.processElement(reading("d1", "d", 4_000, 70), 4_000);
      h.processElement(reading("d2", "e", 2_500, 31), 2_500);
      h.processElement(reading("d2", "f", 3_500, 45), 3_500);
      h.processWatermark(5_000);
      assertThat(matches(h)).containsExactly("MATCH hot@1 d1 warm=[a];hot=[b]", "MATCH hot@2 d1 warm=[b];hot=[d]");
      h.processWatermark(30_000);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();

      h.processElement(reading("d1", "g", 31_000, 31), 31_000);
      h.processWatermark(31_500);
      h.processBroadcastElement(TestEvents.command(RuleAction.DISABLE, "hot", null), 0);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      h.processBroadcastElement(TestEvents.command(RuleAction.ENABLE, "hot", null), 0);
      for (int i = 0; i < 5; i++) {
        h.processElement(reading("d" + i, "h" + i, 32_000, 31), 32_000);
      }
      h.processWatermark(32_500);
      assertThat(TestEvents.numKeyedStateEntries(h)).isGreaterThanOrEqualTo(5);
      h.processBroadcastElement(TestEvents.command(RuleAction.DELETE, "hot", null), 0);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      h.processElement(reading("d1", "i", 33_000, 70), 33_000);
      h.processWatermark(Long.MAX_VALUE);
      assertThat(matches(h)).hasSize(2);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }

  /** Readings of three devices in which matches overlap, so partial matches are open at every watermark. */
  private static List<GenericRecord> overlappingReadings() {
    List<GenericRecord> out = new java.util.ArrayList<>();
    double[] temperatures = {31, 33, 35, 44, 32, 50, 31, 31, 60, 34, 47, 33};
    for (int i = 0; i < temperatures.length; i++) {
      for (int d = 0; d < 3; d++) {
        out.add(reading("d" + d, "e" + i + "-" + d, 1_000 + i * 500L + d, temperatures[(i + d) % temperatures.length]));
      }
    }
    return out;
  }

  @Test
  void aSimpleSequenceRestoredFromACheckpointMidMatchGivesTheSameAlerts() throws Exception {
    List<GenericRecord> events = overlappingReadings();
    List<String> uninterrupted;
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_MATCHES_V1), 0);
      for (int i = 0; i < events.size(); i++) {
        h.processElement(events.get(i), Envelopes.eventTime(events.get(i)));
        if (i % 4 == 3) {
          h.processWatermark(Envelopes.eventTime(events.get(i)) - 700);
        }
      }
      h.processWatermark(Long.MAX_VALUE);
      uninterrupted = alerts(h);
    }
    assertThat(uninterrupted).hasSizeGreaterThan(3);
    int half = events.size() / 2;
    OperatorSubtaskState snapshot;
    List<String> restoredAlerts = new java.util.ArrayList<>();
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_MATCHES_V1), 0);
      for (int i = 0; i < half; i++) {
        h.processElement(events.get(i), Envelopes.eventTime(events.get(i)));
        if (i % 4 == 3) {
          h.processWatermark(Envelopes.eventTime(events.get(i)) - 700);
        }
      }
      assertThat(TestEvents.numKeyedStateEntries(h)).as("partial matches at the checkpoint").isGreaterThan(0);
      snapshot = h.snapshot(1, 1);
      restoredAlerts.addAll(alerts(h));
    }
    try (var restored = TestEvents.restoredHarness(ENVELOPE, "deviceId", snapshot)) {
      for (int i = half; i < events.size(); i++) {
        restored.processElement(events.get(i), Envelopes.eventTime(events.get(i)));
        if (i % 4 == 3) {
          restored.processWatermark(Envelopes.eventTime(events.get(i)) - 700);
        }
      }
      restored.processWatermark(Long.MAX_VALUE);
      restoredAlerts.addAll(alerts(restored));
      assertThat(TestEvents.numKeyedStateEntries(restored)).isZero();
    }
    assertThat(restoredAlerts).isEqualTo(uninterrupted);
  }

  /**
   * A pattern that compiles but makes Flink's NFA throw (a notFollowedBy before an optional greedy
   * loop whose until equals its where; found by the equivalence sweep, seed 7, case 4157).
   */
  private static final String THROWS_IN_NFA =
      """
      id: throws
      version: 1
      severity: low
      eventTypes: [SensorReading]
      key: deviceId
      afterMatch: skip-past-last-event
      pattern:
        - name: s0
          where: "(sum(s0.temperature) + temperature < 9.0) && (status == 'OK')"
        - name: s1
          after: notFollowedBy
          where: "temperature < 4"
        - name: s2
          after: followedBy
          where: "status == 'OK'"
          timesOrMore: 2
          optional: true
          greedy: true
          until: "status == 'OK'"
      """;

  @Test
  void aRuleThatThrowsWhileMatchingDeadLettersWhatItWasGivenAndTheOtherRulesKeepMatching() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, THROWS_IN_NFA), 0);
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, HOT_V1), 0);
      h.processElement(reading("d1", "a", 1_000, 5), 1_000);
      h.processElement(reading("d1", "b", 2_000, 6), 2_000);
      h.processElement(reading("d1", "c", 3_000, 31), 3_000);
      h.processElement(reading("d1", "d", 4_000, 45), 4_000);
      h.processWatermark(30_000);
      assertThat(alerts(h)).containsExactly("MATCH hot@1 d1 warm=[c];hot=[d]");
      List<DeadLetter> dead = h.getSideOutput(RuleEngine.DEAD_LETTERS).stream().map(StreamRecord::getValue).toList();
      assertThat(dead).isNotEmpty().allSatisfy(d -> {
        assertThat(d.getReason()).isEqualTo(DeadLetterReason.RULE_FAILED);
        assertThat(d.getMessage()).startsWith("rule throws@1 failed while matching this event");
      });
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }
}
