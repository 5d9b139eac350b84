package io.vigil.bench;

import io.vigil.bench.pipeline.HandWrittenJob;
import io.vigil.bench.pipeline.LimitJob;
import io.vigil.bench.pipeline.VigilPipeline;
import io.vigil.jobs.spec.CompiledSpec;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The whole-pipeline table: rows "limit" ({@link LimitJob}), "vigil" ({@link VigilPipeline}) and
 * "hand-written" ({@link HandWrittenJob}) on the same in-memory events, one job at a time on one
 * {@link BenchCluster}, at each parallelism, scheduled by {@link #rounds}. Every run's output
 * counts are checked against {@link Oracle}.
 */
public final class ThroughputSuite {

  public static final String TITLE = "Whole pipeline (MiniCluster, in-memory Avro single-object input)";

  public static final String LIMIT = "limit";
  public static final String VIGIL = "vigil";
  public static final String HAND = "hand-written";

  private final CompiledSpec spec;
  private final Dataset dataset;
  private final Oracle oracle;
  private final int limitRepeat;
  private final PrintStream log;
  private final BenchCluster cluster;

  /** @param limitRepeat how many times the limit row plays the dataset (it is fast: a longer run measures it better) */
  public ThroughputSuite(BenchCluster cluster, CompiledSpec spec, Dataset dataset, int limitRepeat, PrintStream log) {
    this.cluster = cluster;
    this.spec = spec;
    this.dataset = dataset;
    this.oracle = Oracle.of(dataset.readings());
    this.limitRepeat = limitRepeat;
    this.log = log;
  }

  public Oracle oracle() {
    return oracle;
  }

  /** Every row, in table order. */
  public static final List<String> ROWS = List.of(LIMIT, VIGIL, HAND);

  /** Runs {@code rows} (of {@link #ROWS}); returns one measurement per row and parallelism, rows in order. */
  public List<Measurement> run(List<String> rows, List<Integer> parallelisms, int rounds, boolean warmUp) throws Exception {
    log.printf("throughput: %,d events (%,d devices), limit row x%d%n", dataset.size(), dataset.devices(), limitRepeat);
    return rounds(rows, parallelisms, rounds, warmUp, this::runOnce, log);
  }

  /** Runs one row once at one parallelism and checks its output. */
  @FunctionalInterface
  public interface RowRunner {
    Outcome run(String row, int parallelism) throws Exception;
  }

  /** One run's measurement, whether its output equalled the oracle's, and what it got if not. */
  public record Outcome(Measurement.Run run, boolean matches, String detail) {}

  /**
   * The schedule every whole-pipeline table shares: one warm-up run of every row at parallelism 1
   * (if {@code warmUp}), then {@code rounds} rounds, each running every row at every parallelism
   * back to back, so that noise from other processes hits all rows alike and ratios can be taken
   * within a round. Returns one measurement per row and parallelism, rows in order.
   */
  public static List<Measurement> rounds(
      List<String> rows, List<Integer> parallelisms, int rounds, boolean warmUp, RowRunner runner, PrintStream log) throws Exception {
    if (warmUp) {
      for (String row : rows) {
        runner.run(row, 1);
      }
    }
    Map<String, List<Measurement.Run>> runs = new LinkedHashMap<>();
    Map<String, Boolean> ok = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (int p : parallelisms) {
        for (String row : rows) {
          Outcome outcome = runner.run(row, p);
          String key = row + "/" + p;
          runs.computeIfAbsent(key, k -> new ArrayList<>()).add(outcome.run());
          ok.merge(key, outcome.matches(), Boolean::logicalAnd);
          log.printf("  round %d p=%d %-13s %,12.0f events/s %,12.0f per core%s%n", round, p, row,
              outcome.run().eventsPerSecond(), outcome.run().eventsPerCoreSecond(), outcome.matches() ? "" : "  OUTPUT MISMATCH: " + outcome.detail());
        }
      }
    }
    List<Measurement> out = new ArrayList<>();
    for (String row : rows) {
      for (int p : parallelisms) {
        String key = row + "/" + p;
        out.add(new Measurement(row, p, runs.get(key), ok.get(key)));
      }
    }
    return out;
  }

  private Outcome runOnce(String row, int parallelism) throws Exception {
    RunClock.reset();
    CountingSink.reset();
    StreamExecutionEnvironment env = BenchCluster.environment(parallelism, BenchSpec.jobConfiguration(spec));
    long events = dataset.size();
    String detail;
    boolean matches;
    switch (row) {
      case LIMIT -> {
        LimitJob.build(env, spec, dataset, limitRepeat);
        events = (long) dataset.size() * limitRepeat;
        cluster.execute(env, "bench limit");
        long valid = CountingSink.count(LimitJob.VALID);
        long dead = CountingSink.count(LimitJob.DEAD_LETTERS);
        matches = valid == events && dead == 0;
        detail = "valid " + valid + ", dead letters " + dead + "; expected " + events + ", 0";
      }
      case VIGIL -> {
        VigilPipeline.build(env, spec, dataset);
        cluster.execute(env, "bench vigil");
        Counts c = new Counts(CountingSink.count(VigilPipeline.AGGREGATES), CountingSink.count(VigilPipeline.SCORES),
            CountingSink.count(VigilPipeline.ALERTS), CountingSink.count(VigilPipeline.DEAD_LETTERS));
        matches = c.matches(oracle);
        detail = c.describe(oracle);
      }
      case HAND -> {
        HandWrittenJob.build(env, spec, dataset);
        cluster.execute(env, "bench hand-written");
        Counts c = new Counts(CountingSink.count(HandWrittenJob.AGGREGATES), CountingSink.count(HandWrittenJob.SCORES),
            CountingSink.count(HandWrittenJob.ALERTS), CountingSink.count(HandWrittenJob.DEAD_LETTERS));
        matches = c.matches(oracle);
        detail = c.describe(oracle);
      }
      default -> throw new IllegalArgumentException(row);
    }
    RunClock.Interval interval = RunClock.interval();
    return new Outcome(new Measurement.Run(events, interval.wallNanos(), interval.cpuNanos()), matches, detail);
  }

  /** A pipeline's output counts. */
  public record Counts(long aggregates, long scores, long alerts, long deadLetters) {
    public boolean matches(Oracle o) {
      return aggregates == o.windows() && scores == o.scores() && alerts == o.alerts() && deadLetters == 0;
    }

    public String describe(Oracle o) {
      return String.format("aggregates %d/%d, scores %d/%d, alerts %d/%d, dead letters %d/0 (got/expected)",
          aggregates, o.windows(), scores, o.scores(), alerts, o.alerts(), deadLetters);
    }
  }
}
