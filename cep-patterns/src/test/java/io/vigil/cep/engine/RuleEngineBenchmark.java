package io.vigil.cep.engine;

import io.vigil.cep.compile.CompiledRule;
import io.vigil.cep.compile.RuleCompiler;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.SensorReading;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.operator.CepOperator;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;

/**
 * Throughput of the dynamic rule engine with 1, 10 and 100 active rules, and of Flink's static
 * {@link CepOperator} running the same single rule, each driven through an operator harness (heap
 * state, one thread, no network): events/s for a steady stream (a watermark every 100 events) and
 * for a catch-up backlog (every event buffered, then one watermark). Not a test (no timing is
 * asserted); after {@code mvn -pl cep-patterns -am test-compile}, run it with the module's test
 * classpath, for example:
 *
 * <pre>
 * mvn -q -pl cep-patterns dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=cp.txt
 * java -cp "schemas/target/classes:functions/target/classes:cep-patterns/target/classes:cep-patterns/target/test-classes:$(cat cp.txt)" \
 *     io.vigil.cep.engine.RuleEngineBenchmark 50000
 * </pre>
 */
public final class RuleEngineBenchmark {

  private static final Schema ENVELOPE = Envelopes.schema(SensorReading.getClassSchema());
  private static final int DEVICES = 500;

  private RuleEngineBenchmark() {}

  private static String rule(int i) {
    return """
        id: bench-%d
        version: 1
        severity: low
        eventTypes: [SensorReading]
        key: deviceId
        within: 1 min
        afterMatch: skip-past-last-event
        pattern:
          - name: warm
            where: temperature > %d.0
          - name: hot
            after: followedBy
            where: temperature > first(warm).temperature + 5.0
        """.formatted(i, 20 + i % 10);
  }

  private static List<GenericRecord> events(int count) {
    Random r = new Random(1);
    List<GenericRecord> out = new ArrayList<>(count);
    long time = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    for (int i = 0; i < count; i++) {
      time += 10;
      String device = "d" + r.nextInt(DEVICES);
      SensorReading reading =
          SensorReading.newBuilder().setEventId("e" + i).setDeviceId(device).setSite("s").setEventTime(Instant.ofEpochMilli(time))
              .setTemperature(15 + r.nextInt(20)).setHumidity(40).setBattery(90).setStatus(DeviceStatus.OK).setFirmware("1").build();
      out.add(TestEvents.envelope(ENVELOPE, reading, device, time));
    }
    return out;
  }

  private interface Target {
    void element(GenericRecord envelope, long time) throws Exception;

    void watermark(long time) throws Exception;
  }

  private static double run(List<GenericRecord> events, boolean backlog, Target target) throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < events.size(); i++) {
      long time = Envelopes.eventTime(events.get(i));
      target.element(events.get(i), time);
      if (!backlog && i % 100 == 99) {
        target.watermark(time - 1);
      }
    }
    target.watermark(Long.MAX_VALUE);
    return events.size() / ((System.nanoTime() - start) / 1e9);
  }

  private static double engine(int rules, List<GenericRecord> events, boolean backlog) throws Exception {
    try (KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h = TestEvents.harness(ENVELOPE, "deviceId")) {
      for (int i = 0; i < rules; i++) {
        h.processBroadcastElement(TestEvents.command(RuleAction.ADD, rule(i)), 0);
      }
      return run(events, backlog, new Target() {
        @Override
        public void element(GenericRecord envelope, long time) throws Exception {
          h.processElement(envelope, time);
        }

        @Override
        public void watermark(long time) throws Exception {
          h.processWatermark(time);
          h.getOutput().clear();
        }
      });
    }
  }

  private static double flinkCep(List<GenericRecord> events, boolean backlog) throws Exception {
    CompiledRule compiled = RuleCompiler.compile(rule(0));
    CepOperator<GenericRecord, String, String> operator =
        new CepOperator<>(
            new GenericRecordAvroTypeInfo(ENVELOPE).createSerializer(new SerializerConfigImpl()),
            false,
            compiled.nfaFactory(),
            null,
            compiled.skipStrategy(),
            new PatternProcessFunction<GenericRecord, String>() {
              @Override
              public void processMatch(Map<String, List<GenericRecord>> match, Context ctx, Collector<String> out) {
                out.collect("m");
              }
            },
            null);
    try (KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, String> h =
        new KeyedOneInputStreamOperatorTestHarness<>(operator, TestEvents.KEY, Types.STRING)) {
      h.open();
      return run(events, backlog, new Target() {
        @Override
        public void element(GenericRecord envelope, long time) throws Exception {
          h.processElement(new StreamRecord<>(envelope, time));
        }

        @Override
        public void watermark(long time) throws Exception {
          h.processWatermark(time);
          h.getOutput().clear();
        }
      });
    }
  }

  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    List<GenericRecord> events = events(count);
    List<GenericRecord> warmup = events(20_000);
    engine(1, warmup, false);
    flinkCep(warmup, false);
    System.out.printf("%d events, %d keys, heap state, one thread%n", count, DEVICES);
    for (boolean backlog : new boolean[] {false, true}) {
      String mode = backlog ? "catch-up (one watermark at the end)" : "steady (watermark every 100 events)";
      System.out.printf("%s: static Flink CEP, 1 rule: %,.0f events/s%n", mode, flinkCep(events, backlog));
      for (int rules : new int[] {1, 10, 100}) {
        List<GenericRecord> input = rules == 100 ? events.subList(0, count / 10) : events;
        System.out.printf("%s: Vigil engine, %d rules: %,.0f events/s%n", mode, rules, engine(rules, input, backlog));
      }
    }
  }
}
