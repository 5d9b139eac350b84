package io.vigil.bench;

import io.vigil.bench.jmh.AggregateBenchmark;
import io.vigil.bench.jmh.CelBenchmark;
import io.vigil.bench.jmh.DecodeBenchmark;
import io.vigil.bench.jmh.DetectorBenchmark;
import io.vigil.bench.jmh.EnvelopeSerdeBenchmark;
import io.vigil.bench.jmh.RuleEngineJmh;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * The JMH micro-benchmarks' bodies timed by this thread's CPU time instead of wall time: each
 * case is set up as JMH sets it up, warmed for {@code warmUpNanos} of CPU, then run in batches
 * until {@code measureNanos} of CPU have passed. On a machine shared with other work JMH's wall
 * clock counts the time the thread waits for a core; CPU time does not, so these numbers stay
 * comparable there (they still include cache and JIT interference). JMH's own runner remains the
 * reference on a quiet machine.
 */
public final class MicroSuite {

  public static final String TITLE = "Micro-benchmarks (thread CPU time per operation)";

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** Defeats dead-code elimination: every result is written here. */
  @SuppressWarnings("unused")
  private static volatile Object sink;

  private final PrintStream log;

  public MicroSuite(PrintStream log) {
    this.log = log;
  }

  /** One operation of a case. */
  private interface Op {
    Object run() throws Exception;
  }

  /** A named case and how many events one operation processes. */
  private record Case(String group, String name, int eventsPerOp, Op op) {}

  /** One case's result. */
  public record Result(String group, String name, double cpuNanosPerEvent) {}

  public List<Result> run(long warmUpNanos, long measureNanos) throws Exception {
    List<Result> out = new ArrayList<>();
    for (Case c : cases()) {
      // Operations of many events are checked against the clock one by one, cheap ones per 100.
      int batch = c.eventsPerOp() > 1 ? 1 : 100;
      loop(c.op(), batch, warmUpNanos);
      long[] measured = loop(c.op(), batch, measureNanos);
      double perEvent = measured[1] / (double) measured[0] / c.eventsPerOp();
      log.printf("  %-10s %-34s %,12.1f ns/event CPU%n", c.group(), c.name(), perEvent);
      out.add(new Result(c.group(), c.name(), perEvent));
    }
    return out;
  }

  /** Runs {@code op} until {@code cpuNanos} of this thread's CPU time have passed; returns {ops, nanos}. */
  private static long[] loop(Op op, int batch, long cpuNanos) throws Exception {
    long start = THREADS.getCurrentThreadCpuTime();
    long ops = 0;
    long spent;
    do {
      for (int i = 0; i < batch; i++) {
        sink = op.run();
      }
      ops += batch;
      spent = THREADS.getCurrentThreadCpuTime() - start;
    } while (spent < cpuNanos);
    return new long[] {ops, spent};
  }

  private static List<Case> cases() throws Exception {
    List<Case> cases = new ArrayList<>();
    for (String format : List.of("AVRO_SINGLE_OBJECT", "AVRO_BINARY", "JSON")) {
      DecodeBenchmark b = new DecodeBenchmark();
      b.format = format;
      b.setUp();
      cases.add(new Case("decode", format.toLowerCase().replace('_', '-'), 1, b::decode));
    }
    for (String serializer : List.of(EnvelopeSerdeBenchmark.FLINK_AVRO, EnvelopeSerdeBenchmark.COMPILED)) {
      EnvelopeSerdeBenchmark b = new EnvelopeSerdeBenchmark();
      b.serializer = serializer;
      b.setUp();
      cases.add(new Case("envelope", serializer + " serialize+deserialize", 1, b::roundTrip));
    }
    CelBenchmark cel = new CelBenchmark();
    cel.setUp();
    cases.add(new Case("cel", "field condition, per event", 1, cel::fieldConditionPerEvent));
    cases.add(new Case("cel", "stage condition, per event", 1, cel::stageConditionPerEvent));
    cases.add(new Case("cel", "evaluation only", 1, cel::evalOnly));
    cases.add(new Case("cel", "field condition, fast path", 1, cel::fastFieldConditionPerEvent));
    cases.add(new Case("cel", "stage condition, fast path", 1, cel::fastStageConditionPerEvent));
    for (String metric : List.of("count", "sum(temperature)", "avg(temperature)", "stddev(temperature)", "distinct(deviceId)", "p95(temperature)")) {
      AggregateBenchmark b = new AggregateBenchmark();
      b.metric = metric;
      b.setUp();
      cases.add(new Case("aggregate", metric, 1, b::add));
    }
    for (String detector : List.of("ewma", "robust-z", "likelihood", "discord")) {
      DetectorBenchmark b = new DetectorBenchmark();
      b.detector = detector;
      b.setUp();
      cases.add(new Case("detector", detector, 1, b::update));
    }
    for (int rules : List.of(1, 10, 100)) {
      RuleEngineJmh b = new RuleEngineJmh();
      b.rules = rules;
      b.setUp();
      cases.add(new Case("rule engine", rules + (rules == 1 ? " rule" : " rules"), RuleEngineJmh.BATCH, b::events));
    }
    return cases;
  }
}
