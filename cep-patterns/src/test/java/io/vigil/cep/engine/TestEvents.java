package io.vigil.cep.engine;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.MatchedEvent;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.heap.HeapKeyedStateBackend;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;

/** Envelopes, commands and harnesses for rule engine tests. */
final class TestEvents {

  private static final Pattern ID = Pattern.compile("(?m)^id:\\s*(\\S+)");
  private static final Pattern VERSION = Pattern.compile("(?m)^version:\\s*(\\d+)");
  private static long offset;

  private TestEvents() {}

  static final KeySelector<GenericRecord, String> KEY = Envelopes::key;

  /** A valid envelope carrying a copy of {@code event} as a generic record. */
  static GenericRecord envelope(Schema envelopeSchema, SpecificRecord event, String key, long time) {
    return Envelopes.valid(envelopeSchema, new SourceRef("events", 0, offset++, null), new byte[0], key, time, toGeneric(event));
  }

  /** The same record as a generic record (enums as enum symbols), as the decoder produces it. */
  static GenericRecord toGeneric(SpecificRecord specific) {
    GenericData.Record r = new GenericData.Record(specific.getSchema());
    for (Schema.Field f : specific.getSchema().getFields()) {
      Object v = specific.get(f.pos());
      if (v instanceof java.time.Instant instant) {
        v = instant.toEpochMilli();
      }
      if (v instanceof Enum<?> e) {
        v = new GenericData.EnumSymbol(f.schema(), e.name());
      }
      r.put(f.pos(), v);
    }
    return r;
  }

  /** The benchmark's rule: a reading at least 10 degrees above the same device's previous one. */
  static final String SPIKE_RULE =
      """
      id: spike
      version: 1
      severity: high
      eventTypes: [SensorReading]
      key: deviceId
      within: 5 min
      afterMatch: skip-past-last-event
      pattern:
        - name: before
          where: "true"
        - name: spike
          after: next
          where: "temperature >= last(before).temperature + 10.0"
      """;

  /** A valid sensor reading as an envelope of {@code envelopeSchema}, keyed by its device. */
  static GenericRecord reading(Schema envelopeSchema, String device, String id, long time, double temperature) {
    return envelope(
        envelopeSchema,
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

  static RuleCommand command(RuleAction action, String yaml) {
    Matcher id = ID.matcher(yaml);
    Matcher version = VERSION.matcher(yaml);
    return new RuleCommand(
        action, id.find() ? id.group(1) : "?", version.find() ? Integer.parseInt(version.group(1)) : null, yaml, null);
  }

  static RuleCommand command(RuleAction action, String ruleId, Integer version) {
    return new RuleCommand(action, ruleId, version, null, null);
  }

  static KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> harness(
      Schema envelopeSchema, String keyField) throws Exception {
    return harness(envelopeSchema, keyField, List.of());
  }

  /** An engine harness whose engine starts with {@code startUpRules} (ADD commands) in force. */
  static KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> harness(
      Schema envelopeSchema, String keyField, List<RuleCommand> startUpRules) throws Exception {
    KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h =
        ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
            new RuleEngine(envelopeSchema, keyField, startUpRules), KEY, Types.STRING, RuleEngine.RULES);
    // As RuleCommands.watermarks() does in a job: the control input never holds event time back.
    h.processBroadcastWatermark(Long.MAX_VALUE);
    return h;
  }

  /** A fresh engine harness restored from {@code snapshot}. */
  static KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> restoredHarness(
      Schema envelopeSchema, String keyField, OperatorSubtaskState snapshot) throws Exception {
    return restoredHarness(envelopeSchema, keyField, snapshot, List.of());
  }

  /** A fresh engine harness, given {@code startUpRules}, restored from {@code snapshot}. */
  static KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> restoredHarness(
      Schema envelopeSchema, String keyField, OperatorSubtaskState snapshot, List<RuleCommand> startUpRules) throws Exception {
    KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h =
        new KeyedBroadcastOperatorTestHarness<>(
            new CoBroadcastWithKeyedOperator<>(new RuleEngine(envelopeSchema, keyField, startUpRules), List.of(RuleEngine.RULES)),
            KEY, Types.STRING, 1, 1, 0);
    h.setup();
    h.initializeState(snapshot);
    h.open();
    h.processBroadcastWatermark(Long.MAX_VALUE);
    return h;
  }

  /** Keyed state entries of the engine's heap backend, as KeyedOneInputStreamOperatorTestHarness counts them. */
  static int numKeyedStateEntries(KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h) {
    AbstractStreamOperator<?> operator = (AbstractStreamOperator<?>) h.getTwoInputOperator();
    return ((HeapKeyedStateBackend<?>) operator.getKeyedStateBackend()).numKeyValueStateEntries();
  }

  /** {@code stage=[id,id];stage=[id]} in match order: how tests compare matches. */
  static String canonical(Alert alert) {
    Map<String, List<String>> byStage = new LinkedHashMap<>();
    for (MatchedEvent e : alert.getEvents()) {
      byStage.computeIfAbsent(e.getStage(), s -> new ArrayList<>()).add(e.getEventId());
    }
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, List<String>> s : byStage.entrySet()) {
      if (sb.length() > 0) {
        sb.append(';');
      }
      sb.append(s.getKey()).append("=").append(s.getValue());
    }
    return sb.toString();
  }
}
