package io.vigil.cep.engine;

import io.vigil.cep.compile.CompiledRule;
import io.vigil.cep.compile.RuleCompiler;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.SensorReading;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.operator.CepOperator;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;

/**
 * Throughput of the dynamic rule engine with 1, 10 and 100 active rules, and of Flink's static
 * {@link CepOperator} running the same single rule, each driven through an operator harness (one
 * thread, no network), on heap state and on RocksDB: events/s for a steady stream (a watermark
 * every 100 events) and for a catch-up backlog (every event buffered, then one watermark). Each
 * run reports events per second of wall-clock time and per second of the benchmark thread's CPU
 * time ("per core": the harness runs the operator in that thread, so this stays meaningful on a
 * busy machine; RocksDB's background compaction threads are not counted).
 *
 * <p>Two rule sets. "Overlapping": rule {@code i} starts on {@code temperature > 20 + i % 10},
 * which 25% to 70% of all readings pass, so every rule holds partial matches for most keys (the
 * worst case for the engine: no rule can be skipped). "Selective": rule {@code i} starts only on
 * readings from site {@code i} (of 100; each device is at one site), as rules written for
 * different sites, device groups or event kinds do: most events start nothing in most rules, and
 * a key holds partial matches of at most one rule.
 *
 * <p>Not a test (no timing is asserted); after {@code mvn -pl cep-patterns -am test-compile}, run
 * it with the module's test classpath, for example:
 *
 * <pre>
 * mvn -q -pl cep-patterns -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=$PWD/cp.txt
 * java -cp "schemas/target/classes:functions/target/classes:cep-patterns/target/classes:cep-patterns/target/test-classes:$(cat cp.txt)" \
 *     io.vigil.cep.engine.RuleEngineBenchmark 50000 heap,rocksdb
 * </pre>
 *
 * The first argument is the number of events for the 1-rule runs (fewer for the slower runs: see
 * the table's "events" column); the second the state backends to measure.
 */
public final class RuleEngineBenchmark {

  private static final Schema ENVELOPE = Envelopes.schema(SensorReading.getClassSchema());
  private static final int DEVICES = 500;
  private static final int SITES = 100;

  private RuleEngineBenchmark() {}

  private static String rule(int i, String start) {
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
            where: "%s"
          - name: hot
            after: followedBy
            where: temperature > first(warm).temperature + 5.0
        """.formatted(i, start);
  }

  /** Rule {@code i} of the overlapping set. */
  private static String overlapping(int i) {
    return rule(i, "temperature > %d.0".formatted(20 + i % 10));
  }

  /** Rule {@code i} of the selective set. */
  private static String selective(int i) {
    return rule(i, "site == 's%d' && temperature > 20.0".formatted(i % SITES));
  }

  private static List<GenericRecord> events(int count) {
    Random r = new Random(1);
    List<GenericRecord> out = new ArrayList<>(count);
    long time = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    for (int i = 0; i < count; i++) {
      time += 10;
      int d = r.nextInt(DEVICES);
      String device = "d" + d;
      SensorReading reading =
          SensorReading.newBuilder().setEventId("e" + i).setDeviceId(device).setSite("s" + d % SITES)
              .setEventTime(Instant.ofEpochMilli(time)).setTemperature(15 + r.nextInt(20)).setHumidity(40).setBattery(90)
              .setStatus(DeviceStatus.OK).setFirmware("1").build();
      out.add(TestEvents.envelope(ENVELOPE, reading, device, time));
    }
    return out;
  }

  private interface Target {
    void element(GenericRecord envelope, long time) throws Exception;

    void watermark(long time) throws Exception;
  }

  /** Events per second of wall-clock time, and per second of this thread's CPU time (per core). */
  private record Rate(double wall, double perCore) {}

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private static Rate run(List<GenericRecord> events, boolean backlog, Target target) throws Exception {
    // One event of another key first, so that compiling rules and creating their state (lazy, on
    // first use) is not timed.
    long first = Envelopes.eventTime(events.get(0));
    SensorReading reading =
        SensorReading.newBuilder().setEventId("warm-up").setDeviceId("warm-up").setSite("s").setEventTime(Instant.ofEpochMilli(first - 1_000))
            .setTemperature(0).setHumidity(40).setBattery(90).setStatus(DeviceStatus.OK).setFirmware("1").build();
    target.element(TestEvents.envelope(ENVELOPE, reading, "warm-up", first - 1_000), first - 1_000);
    target.watermark(first - 500);
    long start = System.nanoTime();
    long cpuStart = THREADS.getCurrentThreadCpuTime();
    for (int i = 0; i < events.size(); i++) {
      long time = Envelopes.eventTime(events.get(i));
      target.element(events.get(i), time);
      if (!backlog && i % 100 == 99) {
        target.watermark(time - 1);
      }
    }
    target.watermark(Long.MAX_VALUE);
    long cpu = THREADS.getCurrentThreadCpuTime() - cpuStart;
    return new Rate(events.size() / ((System.nanoTime() - start) / 1e9), events.size() / (cpu / 1e9));
  }

  private static StateBackend backend(String name) {
    return name.equals("rocksdb") ? new EmbeddedRocksDBStateBackend() : new HashMapStateBackend();
  }

  private static Rate engine(
      String backend, int rules, IntFunction<String> ruleSet, List<GenericRecord> events, boolean backlog) throws Exception {
    try (KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h =
        new KeyedBroadcastOperatorTestHarness<>(
            new CoBroadcastWithKeyedOperator<>(new RuleEngine(ENVELOPE, "deviceId"), List.of(RuleEngine.RULES)),
            TestEvents.KEY, Types.STRING, 1, 1, 0)) {
      h.setStateBackend(backend(backend));
      h.setup();
      h.open();
      h.processBroadcastWatermark(Long.MAX_VALUE);
      for (int i = 0; i < rules; i++) {
        h.processBroadcastElement(TestEvents.command(RuleAction.ADD, ruleSet.apply(i)), 0);
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

  private static Rate flinkCep(String backend, List<GenericRecord> events, boolean backlog) throws Exception {
    CompiledRule compiled = RuleCompiler.compile(overlapping(0));
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
      h.setStateBackend(backend(backend));
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
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    String[] backends = (args.length > 1 ? args[1] : "heap,rocksdb").split(",");
    List<GenericRecord> events = events(count);
    List<GenericRecord> warmup = events(20_000);
    engine("heap", 1, RuleEngineBenchmark::overlapping, warmup, false);
    engine("heap", 10, RuleEngineBenchmark::selective, warmup, false);
    flinkCep("heap", warmup, false);
    System.out.printf("%d keys, one thread%n", DEVICES);
    System.out.printf("%-8s %-9s %-36s %8s %10s %12s%n", "backend", "mode", "operator", "events", "events/s", "per core");
    for (String backend : backends) {
      // RocksDB is several times slower; fewer events keep each run to seconds.
      boolean rocksdb = backend.equals("rocksdb");
      List<GenericRecord> one = events.subList(0, rocksdb ? count / 5 : count);
      List<GenericRecord> ten = events.subList(0, rocksdb ? count / 10 : count);
      List<GenericRecord> hundred = events.subList(0, rocksdb ? count / 50 : count / 10);
      for (boolean backlog : new boolean[] {false, true}) {
        String mode = backlog ? "catch-up" : "steady";
        Rate cep = flinkCep(backend, one, backlog);
        print(backend, mode, "Flink CepOperator, 1 rule", one.size(), cep);
        Rate engine = engine(backend, 1, RuleEngineBenchmark::overlapping, one, backlog);
        print(backend, mode, "engine, 1 rule", one.size(), engine);
        print(backend, mode, "engine, 10 overlapping rules", ten.size(),
            engine(backend, 10, RuleEngineBenchmark::overlapping, ten, backlog));
        print(backend, mode, "engine, 100 overlapping rules", hundred.size(),
            engine(backend, 100, RuleEngineBenchmark::overlapping, hundred, backlog));
        print(backend, mode, "engine, 10 selective rules", ten.size(),
            engine(backend, 10, RuleEngineBenchmark::selective, ten, backlog));
        print(backend, mode, "engine, 100 selective rules", hundred.size(),
            engine(backend, 100, RuleEngineBenchmark::selective, hundred, backlog));
        System.out.printf(
            "%-8s %-9s %-36s %8s %10.2f %12.2f%n", backend, mode, "ratio engine 1 rule / CepOperator", "",
            engine.wall() / cep.wall(), engine.perCore() / cep.perCore());
      }
    }
  }

  private static void print(String backend, String mode, String operator, int events, Rate rate) {
    System.out.printf("%-8s %-9s %-36s %8d %,10.0f %,12.0f%n", backend, mode, operator, events, rate.wall(), rate.perCore());
  }
}
