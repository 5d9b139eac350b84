package io.vigil.cep.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.SensorReading;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Rules with {@code order: arrival}: matched as events arrive, not when the watermark passes them.
 * Each case runs the same rule in both orders on the same events; the event-time run is the
 * reference for what waiting for the watermark would have given. (Equivalence with Flink CEP in
 * processing time over random rules is in {@link RuleEngineEquivalenceTest}.)
 */
class RuleEngineArrivalOrderTest {

  private static final Schema ENVELOPE = Envelopes.schema(SensorReading.getClassSchema());

  /** The benchmark rule (a reading at least 10 degrees above the device's previous one) in arrival order. */
  private static final String SPIKE =
      TestEvents.SPIKE_RULE.replace("afterMatch: skip-past-last-event\n", "afterMatch: skip-past-last-event\norder: arrival\n");

  private static final String SPIKE_IN_EVENT_TIME = TestEvents.SPIKE_RULE;

  private static GenericRecord reading(String device, String id, long time, double temperature) {
    return TestEvents.reading(ENVELOPE, device, id, time, temperature);
  }

  private static List<String> alerts(KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h) {
    return h.extractOutputValues().stream().map(a -> a.getKey() + " " + TestEvents.canonical(a)).toList();
  }

  private static List<DeadLetter> deadLetters(KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h) {
    var side = h.getSideOutput(RuleEngine.DEAD_LETTERS);
    return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
  }

  @Test
  void alertsAsTheSpikeArrivesWithoutWaitingForTheWatermark() throws Exception {
    try (var arrival = TestEvents.harness(ENVELOPE, "deviceId");
        var eventTime = TestEvents.harness(ENVELOPE, "deviceId")) {
      arrival.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE), 0);
      eventTime.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE_IN_EVENT_TIME), 0);
      for (var h : List.of(arrival, eventTime)) {
        h.processElement(reading("d1", "a", 1_000, 20), 1_000);
        h.processElement(reading("d1", "b", 2_000, 31), 2_000);
      }
      assertThat(alerts(arrival)).containsExactly("d1 before=[a];spike=[b]");
      assertThat(alerts(eventTime)).isEmpty();
      eventTime.processWatermark(2_000);
      assertThat(alerts(eventTime)).containsExactly("d1 before=[a];spike=[b]");
    }
  }

  @Test
  void matchesOutOfOrderEventsInTheOrderTheyArrived() throws Exception {
    // b is stamped before a but arrives after it: in arrival order b follows a (31 >= 20 + 10), in
    // event-time order a follows b (20 < 31 + 10) and nothing matches.
    try (var arrival = TestEvents.harness(ENVELOPE, "deviceId");
        var eventTime = TestEvents.harness(ENVELOPE, "deviceId")) {
      arrival.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE), 0);
      eventTime.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE_IN_EVENT_TIME), 0);
      for (var h : List.of(arrival, eventTime)) {
        h.processElement(reading("d1", "a", 2_000, 20), 2_000);
        h.processElement(reading("d1", "b", 1_000, 31), 1_000);
        h.processWatermark(10_000);
      }
      assertThat(alerts(arrival)).containsExactly("d1 before=[a];spike=[b]");
      assertThat(alerts(eventTime)).isEmpty();
    }
  }

  @Test
  void matchesAnEventBehindTheWatermarkWithoutADeadLetterWhenOnlyArrivalOrderRulesRun() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE), 0);
      h.processElement(reading("d1", "a", 5_000, 20), 5_000);
      h.processWatermark(6_000);
      h.processElement(reading("d1", "b", 5_500, 40), 5_500);
      assertThat(alerts(h)).containsExactly("d1 before=[a];spike=[b]");
      assertThat(deadLetters(h)).isEmpty();

      // With an event-time rule beside it, the late event is still matched in arrival order, and
      // is a dead letter for the event-time rule, which skips it.
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE_IN_EVENT_TIME.replace("id: spike", "id: spike-et")), 0);
      h.processElement(reading("d1", "c", 5_600, 30), 5_600);
      h.processElement(reading("d1", "d", 5_700, 45), 5_700);
      assertThat(alerts(h)).containsExactly("d1 before=[a];spike=[b]", "d1 before=[c];spike=[d]");
      assertThat(deadLetters(h)).hasSize(2).allSatisfy(d -> {
        assertThat(d.getReason()).isEqualTo(DeadLetterReason.LATE_EVENT);
        assertThat(d.getMessage()).contains("arrival-order rules matched it");
      });
    }
  }

  @Test
  void expiresPartialMatchesInEventTimeAndLeavesNoStateOnceTheWatermarkPasses() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE), 0);
      h.processElement(reading("d1", "a", 0, 20), 0);
      // Six minutes later: a's partial match is past the 5-minute window, so no spike from a.
      h.processElement(reading("d1", "b", 360_000, 40), 360_000);
      h.processElement(reading("d2", "c", 1_000, 20), 1_000);
      assertThat(alerts(h)).isEmpty();
      // b and c each hold a partial match; nothing but the watermark ends them.
      assertThat(TestEvents.numKeyedStateEntries(h)).isGreaterThan(0);
      h.processWatermark(360_000 + 300_000);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      assertThat(alerts(h)).isEmpty();
    }
  }

  @Test
  void aLateEventsPartialMatchIsClearedWhenItsOwnEarlierWindowEnds() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE), 0);
      // a's partial match would expire at 400 s; b, stamped at 0 s, kills it (next, not 10 degrees
      // hotter) and starts one that expires at 300 s: the key needs a timer by then.
      h.processElement(reading("d1", "a", 100_000, 20), 100_000);
      h.processElement(reading("d1", "b", 0, 15), 0);
      assertThat(TestEvents.numKeyedStateEntries(h)).isGreaterThan(0);
      h.processWatermark(350_000);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      assertThat(alerts(h)).isEmpty();
    }
  }

  @Test
  void startUpRulesMatchTheFirstEventsEvenBeforeTheirCommandsArrive() throws Exception {
    RuleCommand add = TestEvents.command(RuleAction.ADD, SPIKE);
    try (var h = TestEvents.harness(ENVELOPE, "deviceId", List.of(add))) {
      h.processElement(reading("d1", "a", 1_000, 20), 1_000);
      h.processElement(reading("d1", "b", 2_000, 31), 2_000);
      assertThat(alerts(h)).containsExactly("d1 before=[a];spike=[b]");
      // The same ADD through the command stream (its status) changes nothing.
      h.processBroadcastElement(add, 0);
      assertThat(h.getSideOutput(RuleEngine.STATUS)).singleElement().satisfies(s -> {
        assertThat(s.getValue().getAccepted()).isTrue();
        assertThat(s.getValue().getActiveVersion()).isEqualTo(1);
      });
      h.processElement(reading("d1", "c", 3_000, 20), 3_000);
      h.processElement(reading("d1", "d", 4_000, 35), 4_000);
      h.processWatermark(Long.MAX_VALUE);
      assertThat(alerts(h)).containsExactly("d1 before=[a];spike=[b]", "d1 before=[c];spike=[d]");
    }
  }

  @Test
  void aRestoredEngineKeepsItsRuleSetRatherThanTheStartUpRules() throws Exception {
    RuleCommand add = TestEvents.command(RuleAction.ADD, SPIKE);
    org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
    try (var h = TestEvents.harness(ENVELOPE, "deviceId", List.of(add))) {
      h.processBroadcastElement(TestEvents.command(RuleAction.DELETE, "spike", null), 0);
      snapshot = h.snapshot(1, 1);
    }
    try (var h = TestEvents.restoredHarness(ENVELOPE, "deviceId", snapshot, List.of(add))) {
      h.processElement(reading("d1", "a", 1_000, 20), 1_000);
      h.processElement(reading("d1", "b", 2_000, 31), 2_000);
      h.processWatermark(Long.MAX_VALUE);
      assertThat(alerts(h)).isEmpty();
    }
  }

  @Test
  void aRepeatedAddOfTheActiveVersionIsAcceptedAndAChangedOneRejected() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE), 0);
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE), 0);
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, SPIKE.replace("+ 10.0", "+ 20.0")), 0);
      var statuses = h.getSideOutput(RuleEngine.STATUS).stream().map(StreamRecord::getValue).toList();
      assertThat(statuses).extracting(s -> s.getAccepted()).containsExactly(true, true, false);
      assertThat(statuses.get(2).getError()).contains("ADD: rule 'spike' exists; use UPDATE with a higher version");
    }
  }
}
