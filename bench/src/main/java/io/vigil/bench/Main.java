package io.vigil.bench;

import io.vigil.bench.cep.CepSuite;
import io.vigil.bench.kafka.BrokerProcess;
import io.vigil.bench.kafka.KafkaSuite;
import io.vigil.jobs.options.VigilOptions;
import io.vigil.jobs.spec.CompiledSpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.util.FileUtils;

/**
 * The performance harness's command line. Runs the selected sections and prints their tables,
 * then writes them as JSON:
 *
 * <pre>
 * java -jar bench/target/vigil-bench.jar [--quick | --full] [--sections throughput,kafka,cep,latency,scale]
 *     [--events N] [--rounds N] [--out bench/target/results.json]
 *     [--rows limit,vigil,hand-written] [--backends hashmap,rocksdb]
 *     [--profiles bench-spec,low-latency,low-latency-heap,arrival,arrival-heap]
 * </pre>
 *
 * {@code --backends} selects the state backends of the in-memory whole-pipeline table and of the
 * latency profiles (the heap-state profiles run on {@code hashmap}, the others on {@code rocksdb}); the Kafka
 * table ({@code kafka}: a broker process as source and sink) always runs with heap state, and
 * {@code --events} sizes both. {@code --full} (the default) is the README's tables: about 11
 * minutes on 2 cores; {@code --quick} is the same with fewer events and
 * rounds (about 5 minutes); {@code --smoke} uses tiny
 * counts to check that everything runs and outputs what the oracles expect (the unit test). JMH
 * micro-benchmarks run from the same jar: {@code java -cp bench/target/vigil-bench.jar
 * org.openjdk.jmh.Main}; {@code --sections micro} times the same benchmark bodies by CPU time.
 */
public final class Main {

  /**
   * The sizes of one mode; every section reads what it needs.
   *
   * @param events events of the whole-pipeline table with heap state ({@code hashmap})
   * @param rocksDbEvents events of the whole-pipeline table with RocksDB: fewer, because Flink
   *     CEP on RocksDB slows down with the number of events already processed (see README)
   * @param kafkaEvents events of the Kafka table (heap state)
   */
  public record Mode(
      String name,
      int events,
      int rocksDbEvents,
      int kafkaEvents,
      int devices,
      int rounds,
      boolean warmUp,
      int limitRepeat,
      List<Integer> parallelisms,
      int cepEvents,
      int latencySeconds,
      long scaleKeys) {

    static Mode of(String name) {
      return switch (name) {
        case "full" -> new Mode("full", 60_000, 4_000, 100_000, 1_000, 5, true, 20, List.of(1, 2), 200_000, 30, 10_000_000);
        case "quick" -> new Mode("quick", 10_000, 2_000, 30_000, 1_000, 3, true, 10, List.of(1, 2), 20_000, 10, 1_000_000);
        // The limit row replays its input 200 times even here: at millions of events per second a
        // shorter run ends within the resolution of the process CPU clock, and per core is undefined.
        case "smoke" -> new Mode("smoke", 2_000, 1_000, 2_000, 200, 1, false, 200, List.of(1, 2), 2_000, 2, 20_000);
        default -> throw new IllegalArgumentException("unknown mode " + name + "; use --full, --quick or --smoke");
      };
    }

    /** This mode with {@code n} events in the whole-pipeline tables with heap state: in memory and with Kafka. */
    Mode withEvents(int n) {
      return new Mode(name, n, rocksDbEvents, n, devices, rounds, warmUp, limitRepeat, parallelisms, cepEvents, latencySeconds, scaleKeys);
    }

    Mode withRounds(int n) {
      return new Mode(name, events, rocksDbEvents, kafkaEvents, devices, n, warmUp, limitRepeat, parallelisms, cepEvents, latencySeconds, scaleKeys);
    }
  }

  /** The sections a run has unless {@code --sections} says otherwise. */
  public static final List<String> SECTIONS = List.of("throughput", "kafka", "cep", "latency", "scale");

  /**
   * The latency section's profiles ({@code --profiles}): the spec as it is, or {@link
   * BenchSpec#lowLatency}; the rule in event-time or arrival order; RocksDB or heap state.
   * {@code low-latency} (event time on RocksDB) runs only on request, so that a full run stays
   * within the harness's 15-minute budget.
   */
  enum LatencyProfile {
    BENCH_SPEC("bench-spec", "bench spec", false, false, false),
    LOW_LATENCY("low-latency", "low latency", true, false, false),
    LOW_LATENCY_HEAP("low-latency-heap", "low latency, heap state", true, false, true),
    ARRIVAL("arrival", "arrival order", true, true, false),
    ARRIVAL_HEAP("arrival-heap", "arrival order, heap state", true, true, true);

    static final List<String> DEFAULT = List.of("bench-spec", "low-latency-heap", "arrival", "arrival-heap");

    final String id;
    final String label;
    final boolean low;
    final boolean arrival;
    final boolean heap;

    LatencyProfile(String id, String label, boolean low, boolean arrival, boolean heap) {
      this.id = id;
      this.label = label;
      this.low = low;
      this.arrival = arrival;
      this.heap = heap;
    }

    static LatencyProfile byId(String id) {
      for (LatencyProfile p : values()) {
        if (p.id.equals(id)) {
          return p;
        }
      }
      return null;
    }

    static List<String> ids() {
      return Arrays.stream(values()).map(p -> p.id).toList();
    }
  }

  /**
   * A section only on request: the micro-benchmarks by CPU time (JMH's runner is the reference;
   * this one stays usable on a shared machine).
   */
  public static final String MICRO = "micro";

  private Main() {}

  public static void main(String[] args) {
    int status = 0;
    try {
      run(args, System.out);
    } catch (Throwable t) {
      t.printStackTrace();
      status = 1;
    }
    // MiniCluster and RocksDB leave non-daemon threads behind.
    System.exit(status);
  }

  /** Parses {@code args}, runs, prints to {@code out}, writes the JSON; returns the report. */
  public static Report run(String[] args, PrintStream out) throws Exception {
    String modeName = "full";
    Integer events = null;
    Integer rounds = null;
    List<String> sections = SECTIONS;
    List<String> rows = ThroughputSuite.ROWS;
    List<String> backends = List.of("hashmap", "rocksdb");
    List<String> profiles = LatencyProfile.DEFAULT;
    Path json = Path.of("bench", "target", "results.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--full", "--quick", "--smoke" -> modeName = args[i].substring(2);
        case "--events" -> events = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--sections" -> sections = List.of(args[++i].split(","));
        case "--out" -> json = Path.of(args[++i]);
        case "--rows" -> rows = List.of(args[++i].split(","));
        case "--backends" -> backends = List.of(args[++i].split(","));
        case "--profiles" -> profiles = List.of(args[++i].split(","));
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    for (String p : profiles) {
      if (LatencyProfile.byId(p) == null) {
        throw new IllegalArgumentException("unknown latency profile " + p + "; known: " + LatencyProfile.ids());
      }
    }
    for (String s : sections) {
      if (!SECTIONS.contains(s) && !s.equals(MICRO)) {
        throw new IllegalArgumentException("unknown section " + s + "; known: " + SECTIONS + " and " + MICRO);
      }
    }
    Mode mode = Mode.of(modeName);
    if (events != null) {
      mode = mode.withEvents(events);
    }
    if (rounds != null) {
      mode = mode.withRounds(rounds);
    }
    Report report = new Report();
    report.settings().put("mode", mode.name());
    report.settings().put("sections", sections);
    long start = System.nanoTime();
    Path checkpoints = Files.createTempDirectory("vigil-bench-checkpoints");
    try (BenchCluster cluster = new BenchCluster()) {
      CompiledSpec spec = BenchSpec.compile(checkpoints);
      if (sections.contains("throughput")) {
        throughput(report, cluster, spec, mode, rows, backends, out);
      }
      if (sections.contains("kafka")) {
        kafka(report, cluster, spec, mode, rows, out);
      }
      if (sections.contains("cep")) {
        cep(report, spec, mode, out);
      }
      if (sections.contains("latency")) {
        latency(report, cluster, spec, mode, backends, profiles, out);
      }
      if (sections.contains("scale")) {
        scale(report, mode, out);
      }
      if (sections.contains(MICRO)) {
        micro(report, mode, out);
      }
    } finally {
      FileUtils.deleteDirectoryQuietly(checkpoints.toFile());
    }
    report.settings().put("wallSeconds", Math.round((System.nanoTime() - start) / 1e9));
    report.print(out);
    report.writeJson(json);
    out.println();
    out.println("results written to " + json.toAbsolutePath());
    return report;
  }

  private static void throughput(Report report, BenchCluster cluster, CompiledSpec spec, Mode mode, List<String> selectedRows,
      List<String> backends, PrintStream out) throws Exception {
    List<Map<String, Object>> rows = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    for (String backend : backends) {
      int events = backend.equals("rocksdb") ? mode.rocksDbEvents() : mode.events();
      try (Dataset dataset = Dataset.generate(events, mode.devices(), false)) {
        ThroughputSuite suite = new ThroughputSuite(cluster, BenchSpec.withStateBackend(spec, backend), dataset, mode.limitRepeat(), out);
        List<Measurement> ms = suite.run(selectedRows, mode.parallelisms(), mode.rounds(), mode.warmUp());
        for (Measurement m : ms) {
          rows.add(pipelineRow(backend, m));
        }
        Oracle o = suite.oracle();
        notes.add(String.format("%s: %,d events, %,d windows, %,d scores, %,d alerts per run", backend, events, o.windows(), o.scores(), o.alerts()));
        for (int p : selectedRows.containsAll(ThroughputSuite.ROWS) ? mode.parallelisms() : List.<Integer>of()) {
          Measurement vigil = find(ms, ThroughputSuite.VIGIL, p);
          report.add(new Report.Ratio("vigil / hand-written per core, " + backend + ", p=" + p,
              vigil.medianRatioPerCore(find(ms, ThroughputSuite.HAND, p)), 0.8,
              "the full Vigil job against the same job written by hand in Flink"));
          report.add(new Report.Ratio("vigil / limit per core, " + backend + ", p=" + p,
              vigil.medianRatioPerCore(find(ms, ThroughputSuite.LIMIT, p)), null,
              "how much of the decode-only ceiling the full job keeps"));
        }
        if (backend.equals("hashmap") && selectedRows.contains(ThroughputSuite.LIMIT)) {
          report.add(new Report.Ratio("decode+validate events/s per core, p=1",
              find(ms, ThroughputSuite.LIMIT, 1).medianEventsPerCoreSecond(), 1_000_000.0,
              "the limit row: Flink source + Vigil decoder (Avro single-object) + routing"));
        }
      }
    }
    report.add(new Report.Table(
        ThroughputSuite.TITLE,
        String.format("median of %d rounds%s; per core = events / process CPU seconds; the limit row plays the input %d times. %s.",
            mode.rounds(), mode.warmUp() ? " after a warm-up" : "", mode.limitRepeat(), String.join("; ", notes)),
        List.of("state backend", "row", "parallelism", "events", "runs", "events/s", "events/s per core", "cores used", "output = oracle"),
        rows));
  }

  /** The columns every whole-pipeline table shares, for one row at one parallelism. */
  private static Map<String, Object> pipelineRow(String backend, Measurement m) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("state backend", backend);
    row.put("row", m.row());
    row.put("parallelism", m.parallelism());
    row.put("events", m.events());
    row.put("runs", m.runs().size());
    row.put("events/s", m.medianEventsPerSecond());
    row.put("events/s per core", m.medianEventsPerCoreSecond());
    row.put("cores used", m.medianCoresUsed());
    row.put("output = oracle", m.outputsMatchOracle() ? "yes" : "NO");
    return row;
  }

  /**
   * The Kafka table ({@link KafkaSuite}), heap state. The smoke run checkpoints every second: a
   * bounded job waits for its next checkpoint to commit its output, which would otherwise
   * dominate its time.
   */
  private static void kafka(Report report, BenchCluster cluster, CompiledSpec spec, Mode mode, List<String> selectedRows, PrintStream out)
      throws Exception {
    CompiledSpec heap = BenchSpec.withStateBackend(spec, "hashmap");
    if (mode.name().equals("smoke")) {
      heap = BenchSpec.withCheckpointInterval(heap, Duration.ofSeconds(1));
    }
    Duration interval = heap.configuration().get(VigilOptions.CHECKPOINT_INTERVAL);
    Path dir = Files.createTempDirectory("vigil-bench-kafka");
    List<Measurement> ms;
    Oracle o;
    try (BrokerProcess broker = BrokerProcess.start(dir);
        Dataset dataset = Dataset.generate(mode.kafkaEvents(), mode.devices(), false);
        KafkaSuite suite = new KafkaSuite(cluster, heap, broker, dataset, out)) {
      ms = suite.run(selectedRows, mode.parallelisms(), mode.rounds(), mode.warmUp());
      o = suite.oracle();
    } finally {
      FileUtils.deleteDirectoryQuietly(dir.toFile());
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Measurement m : ms) {
      Map<String, Object> row = pipelineRow("hashmap", m);
      row.put("broker cores", m.medianExternalCoresUsed());
      row.put("events/s per core with broker", m.medianEventsPerCoreSecondWithExternal());
      rows.add(row);
    }
    for (int p : selectedRows.containsAll(ThroughputSuite.ROWS) ? mode.parallelisms() : List.<Integer>of()) {
      report.add(new Report.Ratio("vigil / hand-written per core, kafka, hashmap, p=" + p,
          find(ms, ThroughputSuite.VIGIL, p).medianRatioPerCore(find(ms, ThroughputSuite.HAND, p)), null,
          "the Vigil job against the hand-written one, both between a Kafka source and exactly-once Kafka sinks"));
    }
    report.add(new Report.Table(
        KafkaSuite.TITLE,
        String.format("median of %d rounds%s; %,d events (%,d devices) in a %d-partition topic written before the runs; "
                + "%,d windows, %,d scores, %,d alerts per run, read back read_committed; interval = first record read until the output "
                + "is visible read_committed (the job's end commits its final checkpoint's transactions; checkpoints every %d s); per core = events / this process's CPU seconds; with broker = events / "
                + "(this process's + the broker process's CPU seconds)",
            mode.rounds(), mode.warmUp() ? " after a warm-up" : "", mode.kafkaEvents(), mode.devices(), KafkaSuite.PARTITIONS,
            o.windows(), o.scores(), o.alerts(), interval.toSeconds()),
        List.of("state backend", "row", "parallelism", "events", "runs", "events/s", "events/s per core", "cores used", "broker cores",
            "events/s per core with broker", "output = oracle"),
        rows));
  }

  private static void cep(Report report, CompiledSpec spec, Mode mode, PrintStream out) throws Exception {
    try (Dataset dataset = Dataset.generate(mode.cepEvents(), mode.devices(), false)) {
      CepSuite suite = new CepSuite(dataset, spec.decode(), out);
      List<Measurement> ms = suite.run(mode.rounds(), mode.warmUp());
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Measurement m : ms) {
        Map<String, Object> row = new LinkedHashMap<>();
        String[] engineAndMode = m.row().split(", (?=[^,]*$)");
        row.put("engine", engineAndMode[0]);
        row.put("event time", engineAndMode[1]);
        row.put("events", m.events());
        row.put("runs", m.runs().size());
        row.put("events/s", m.medianEventsPerSecond());
        row.put("events/s per core", m.medianEventsPerCoreSecond());
        row.put("output = oracle", m.outputsMatchOracle() ? "yes" : "NO");
        rows.add(row);
      }
      report.add(new Report.Table(
          CepSuite.TITLE,
          String.format("one rule (temperature-spike), single thread, operator harness with heap state for the Flink rows; %,d devices; %,d matches expected; median of %d rounds",
              mode.devices(), suite.expectedMatches(), mode.rounds()),
          List.of("engine", "event time", "events", "runs", "events/s", "events/s per core", "output = oracle"),
          rows));
      Measurement esper = find(ms, CepSuite.ESPER + ", " + CepSuite.ARRIVAL, 1);
      report.add(new Report.Ratio("vigil engine (1 rule) / esper per core, " + CepSuite.ARRIVAL,
          find(ms, CepSuite.ENGINE + ", " + CepSuite.ARRIVAL, 1).medianRatioPerCore(esper), null,
          "Vigil's dynamic rule engine with the rule in arrival order, as Esper matches, against Esper"));
      for (String time : List.of(CepSuite.STEADY, CepSuite.CATCH_UP)) {
        Measurement engine = find(ms, CepSuite.ENGINE + ", " + time, 1);
        Measurement compiled = find(ms, CepSuite.CEP_COMPILED + ", " + time, 1);
        report.add(new Report.Ratio("vigil engine (1 rule) / esper per core, " + time, engine.medianRatioPerCore(esper), null,
            "Vigil's dynamic rule engine against Esper on the same pattern"));
        report.add(new Report.Ratio("vigil engine (1 rule) / static flink cep per core, " + time, engine.medianRatioPerCore(compiled), null,
            "the dynamic engine against Flink's CepOperator running the same compiled pattern"));
      }
    }
  }

  private static void latency(
      Report report, BenchCluster cluster, CompiledSpec spec, Mode mode, List<String> backends, List<String> profiles, PrintStream out)
      throws Exception {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (LatencyProfile lp : LatencyProfile.values()) {
      if (!profiles.contains(lp.id) || !backends.contains(lp.heap ? "hashmap" : "rocksdb")) {
        continue;
      }
      CompiledSpec profiled = lp.low ? BenchSpec.lowLatency(spec) : spec;
      profiled = BenchSpec.withLatencyRule(profiled, lp.arrival);
      if (lp.heap) {
        profiled = BenchSpec.withStateBackend(profiled, "hashmap");
      }
      out.printf("latency: profile %s%n", lp.label);
      LatencySuite.Result r =
          new LatencySuite(cluster, profiled, lp.low, out).run(2, mode.rocksDbEvents() * 2, mode.latencySeconds());
      for (String output : List.of("alerts", "scores")) {
        LatencySuite.Percentiles p = output.equals("alerts") ? r.alerts() : r.scores();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("profile", lp.label);
        row.put("output", output);
        row.put("parallelism", r.parallelism());
        row.put("max events/s", r.maxEventsPerSecond());
        row.put("paced events/s", r.rate());
        row.put("events", (long) r.events());
        row.put("samples", (long) p.samples());
        // No samples (a short run without a match): no percentiles, rather than NaN in the JSON.
        row.put("p50 ms", p.samples() == 0 ? null : p.p50());
        row.put("p99 ms", p.samples() == 0 ? null : p.p99());
        row.put("max ms", p.samples() == 0 ? null : p.max());
        row.put("output = oracle", r.outputsMatchOracle() ? "yes" : "NO");
        rows.add(row);
      }
    }
    report.add(new Report.Table(
        LatencySuite.TITLE,
        "RocksDB unless stated; bench spec: the generator's input (up to 3 s disorder), 5 s out-of-orderness bound, 200 ms watermark interval, 100 ms buffer timeout; "
            + "low latency: the same readings sorted by event time, 20 ms bound, 10 ms watermark interval, 5 ms buffer timeout; "
            + "arrival order: low latency with the rule in arrival order (order: arrival), matched as readings arrive; "
            + "latency = sink arrival minus source emission of the (last matched) input record; event time runs at wall-clock speed",
        List.of("profile", "output", "parallelism", "max events/s", "paced events/s", "events", "samples", "p50 ms", "p99 ms", "max ms", "output = oracle"),
        rows));
  }

  private static void scale(Report report, Mode mode, PrintStream out) throws Exception {
    ScaleSuite suite = new ScaleSuite(out);
    List<Map<String, Object>> rows = new ArrayList<>();
    Duration interval = mode.name().equals("smoke") ? Duration.ofSeconds(1) : Duration.ofSeconds(10);
    boolean ok = true;
    for (long keys : List.of(mode.scaleKeys() / 10, mode.scaleKeys())) {
      out.printf("scale: %,d keys%n", keys);
      ScaleSuite.Result r = suite.run(keys, interval);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("keys", r.keys());
      row.put("insert s", r.seconds());
      row.put("keys/s", r.keysPerSecond());
      row.put("max heap used MB", r.maxHeapBytes() / 1048576.0);
      row.put("heap limit MB", r.heapLimitBytes() / 1048576.0);
      row.put("checkpoints", (long) r.completedCheckpoints());
      row.put("last checkpoint ms", r.lastCheckpointMillis());
      row.put("max checkpoint ms", r.maxCheckpointMillis());
      row.put("state size MB", r.lastFullSizeBytes() / 1048576.0);
      row.put("last incremental MB", r.lastIncrementalSizeBytes() / 1048576.0);
      row.put("output = oracle", r.newKeys() == r.keys() ? "yes" : "NO");
      rows.add(row);
    }
    report.add(new Report.Table(
        ScaleSuite.TITLE,
        "one EWMA model per key (ValueState, no timers); heap = whole process, sampled every 100 ms; checkpoint interval "
            + interval.toSeconds() + " s; sizes from Flink's checkpoint statistics of the last completed checkpoint",
        List.of("keys", "insert s", "keys/s", "max heap used MB", "heap limit MB", "checkpoints", "last checkpoint ms",
            "max checkpoint ms", "state size MB", "last incremental MB", "output = oracle"),
        rows));
  }

  private static void micro(Report report, Mode mode, PrintStream out) throws Exception {
    out.println("micro: thread CPU time per event");
    boolean smoke = mode.name().equals("smoke");
    List<MicroSuite.Result> results = new MicroSuite(out).run(smoke ? 20_000_000L : 2_000_000_000L, smoke ? 20_000_000L : 1_000_000_000L);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (MicroSuite.Result r : results) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("group", r.group());
      row.put("case", r.name());
      row.put("CPU ns per event", r.cpuNanosPerEvent());
      row.put("events/s per core", 1e9 / r.cpuNanosPerEvent());
      rows.add(row);
    }
    report.add(new Report.Table(MicroSuite.TITLE,
        "the JMH benchmarks' bodies (io.vigil.bench.jmh), warmed for 2 s and measured for 1 s of this thread's CPU time",
        List.of("group", "case", "CPU ns per event", "events/s per core"), rows));
  }

  private static Measurement find(List<Measurement> ms, String row, int p) {
    return ms.stream().filter(m -> m.row().equals(row) && m.parallelism() == p).findFirst().orElseThrow();
  }
}
