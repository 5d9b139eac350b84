package io.vigil.cep.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.cep.compile.RuleCompiler;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.SensorReading;
import java.time.Instant;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The start filter skips a rule only for events that cannot start a match of it: by its start
 * stage's required field values, and through an optional first stage to the next.
 */
class StartFilterTest {

  private static final Schema ENVELOPE = Envelopes.schema(SensorReading.getClassSchema());

  private static String rule(String first, String firstOptions) {
    return """
        id: north-hot
        version: 1
        severity: low
        eventTypes: [SensorReading]
        key: deviceId
        within: 10 s
        pattern:
          - name: warm
            where: "%s"%s
          - name: hot
            after: followedBy
            where: temperature > 40.0
        """.formatted(first, firstOptions);
  }

  private static GenericRecord reading(String device, String id, long time, String site, double temperature) {
    return TestEvents.envelope(
        ENVELOPE,
        SensorReading.newBuilder().setEventId(id).setDeviceId(device).setSite(site).setEventTime(Instant.ofEpochMilli(time))
            .setTemperature(temperature).setHumidity(40).setBattery(80).setStatus(DeviceStatus.OK).setFirmware("1").build(),
        device,
        time);
  }

  private static List<String> matches(KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h) {
    return h.extractOutputValues().stream().map(TestEvents::canonical).toList();
  }

  @Test
  void decidesWhichEventsCanStartAMatch() throws Exception {
    StartFilter siteOnly = filter(rule("site == 'north' && temperature > 30.0", ""));
    StartFilter optionalSite = filter(rule("site == 'north'", "\n    optional: true"));
    GenericRecord southHot = reading("d1", "a", 1_000, "south", 45);
    GenericRecord southWarm = reading("d1", "b", 1_000, "south", 35);
    GenericRecord northCool = reading("d1", "c", 1_000, "north", 20);
    GenericRecord northWarm = reading("d1", "d", 1_000, "north", 35);
    assertThat(siteOnly.firstStarting(List.of(southHot, southWarm, northCool), 1_000, () -> 0L)).isEqualTo(-1);
    assertThat(siteOnly.firstStarting(List.of(southHot, northWarm), 1_000, () -> 0L)).isEqualTo(1);
    assertThat(optionalSite.firstStarting(List.of(southWarm, southHot), 1_000, () -> 0L)).isEqualTo(1);
    assertThat(optionalSite.firstStarting(List.of(southWarm, northCool), 1_000, () -> 0L)).isEqualTo(1);
  }

  private static StartFilter filter(String yaml) throws Exception {
    return new StartFilter(RuleCompiler.compile(yaml).nfaFactory().createNFA());
  }

  @Test
  void aRuleForOneSiteMatchesThereAndKeepsNoStateForOtherSites() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, rule("site == 'north' && temperature > 30.0", "")), 0);
      h.processElement(reading("d1", "a", 1_000, "south", 35), 1_000);
      h.processElement(reading("d1", "b", 1_000, "north", 20), 1_000);
      h.processElement(reading("d1", "c", 2_000, "south", 45), 2_000);
      h.processWatermark(3_000);
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
      h.processElement(reading("d1", "d", 4_000, "north", 35), 4_000);
      h.processElement(reading("d1", "e", 5_000, "south", 45), 5_000);
      h.processWatermark(6_000);
      assertThat(matches(h)).containsExactly("warm=[d];hot=[e]");
    }
  }

  @Test
  void anOptionalFirstStageStillLetsTheSecondStartAMatch() throws Exception {
    try (var h = TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, rule("site == 'north'", "\n    optional: true")), 0);
      h.processElement(reading("d1", "a", 1_000, "south", 20), 1_000);
      h.processElement(reading("d1", "b", 2_000, "south", 45), 2_000);
      h.processElement(reading("d2", "c", 2_000, "north", 20), 2_000);
      h.processElement(reading("d2", "d", 3_000, "south", 45), 3_000);
      h.processWatermark(Long.MAX_VALUE);
      assertThat(matches(h)).containsExactlyInAnyOrder("hot=[b]", "hot=[d]", "warm=[c];hot=[d]");
      assertThat(TestEvents.numKeyedStateEntries(h)).isZero();
    }
  }
}
