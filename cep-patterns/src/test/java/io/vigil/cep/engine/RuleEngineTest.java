package io.vigil.cep.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AlertKind;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.RuleState;
import io.vigil.schemas.RuleStatus;
import io.vigil.schemas.SensorReading;
import java.time.Instant;
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

  private static GenericRecord reading(String device, String id, long time, double temperature) {
    return TestEvents.envelope(
        ENVELOPE,
        SensorReading.newBuilder()
            .setEventId(id)
            .setDeviceId(device)
            .setSite("s")
            .setEventTime(Instant.ofEpochMilli(time))
            .setTemperature(temperature)
            .setHumidity(40)
            .setBattery(80)
            .setStatus(DeviceStatus.OK)
            .setFirmware("1")
            .build(),
        device,
        time);
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
          .containsExactly(
              "MATCH hot@1 d1 warm=[a];hot=[b]",
              "TIMEOUT hot@1 d1 warm=[b]",
              "TIMEOUT hot@1 d2 warm=[c]");
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }
}
