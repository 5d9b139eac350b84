package io.vigil.bench;

import io.vigil.bench.pipeline.EnvelopeConverter;
import io.vigil.bench.pipeline.VigilPipeline;
import io.vigil.jobs.JobSinks;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AnomalyScore;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Event-to-output latency of the Vigil job at half its measured maximum throughput.
 *
 * <p>First the maximum: unpaced runs of the job (same parallelism and state backend), back to back
 * with the paced run: a warm-up on {@code calibrationEvents} events of 1,000 devices, then about 5
 * s of input shaped like the paced run's (as many devices, the same ordering). Then the paced run: the source
 * emits {@code rate = max / 2} records per second and stamps each record's emission time; the
 * alert sink measures, per alert, the time from the emission of the alert's last matched event
 * (the reading that completes the match) to the alert's arrival at the sink; the score sink does
 * the same per score. The input has {@code 10 * rate} devices, each reporting every 10 s of event
 * time, so event time advances as fast as wall time, as in a live stream.
 *
 * <p>The spec's rule is given by the caller: {@link Main} runs the bench rule with a smaller spike
 * ({@link BenchSpec#withLatencyRule}), so that a run has thousands of alerts; the oracle counts
 * that rule's matches ({@link BenchSpec#LATENCY_STEP}).
 *
 * <p>What the numbers contain: in event-time order an alert waits for the watermark to pass its
 * event (the spec's out-of-orderness bound plus the watermark interval), then queueing and
 * processing; in arrival order, and for every score, only queueing and processing. {@code
 * ordered} selects the input: the generator's (up to 3 s of disorder, for the bench spec and its
 * 5 s bound) or the same readings sorted by event time (for {@link BenchSpec#lowLatency}).
 */
public final class LatencySuite {

  public static final String TITLE = "Latency at half the maximum throughput (Vigil job)";

  private static final String ALERTS = "latency.alerts";
  private static final String SCORES = "latency.scores";

  private final CompiledSpec spec;
  private final boolean ordered;
  private final PrintStream log;
  private final BenchCluster cluster;

  /** @param ordered whether the paced input is sorted by event time ({@link Dataset#generate}) */
  public LatencySuite(BenchCluster cluster, CompiledSpec spec, boolean ordered, PrintStream log) {
    this.cluster = cluster;
    this.spec = spec;
    this.ordered = ordered;
    this.log = log;
  }

  /** Latency percentiles of one output, in milliseconds. */
  public record Percentiles(int samples, double p50, double p99, double max) {
    static Percentiles of(List<Long> nanos) {
      List<Long> sorted = new ArrayList<>(nanos);
      Collections.sort(sorted);
      if (sorted.isEmpty()) {
        return new Percentiles(0, Double.NaN, Double.NaN, Double.NaN);
      }
      return new Percentiles(sorted.size(), at(sorted, 0.50), at(sorted, 0.99), sorted.get(sorted.size() - 1) / 1e6);
    }

    private static double at(List<Long> sorted, double q) {
      int index = (int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1);
      return sorted.get(Math.max(0, index)) / 1e6;
    }
  }

  /**
   * @param maxEventsPerSecond the calibration run's throughput
   * @param rate the paced rate, events per second
   * @param expectedAlerts the oracle's alerts for the paced input
   */
  public record Result(int parallelism, double maxEventsPerSecond, double rate, int events, Percentiles alerts,
      Percentiles scores, long expectedAlerts, boolean outputsMatchOracle) {}

  public Result run(int parallelism, int calibrationEvents, int seconds) throws Exception {
    // A first, short run warms the JIT and gives a rough maximum; the maximum is then measured on
    // input shaped like the paced run's (its device count, its ordering), for about 5 s: a short
    // run on a cold JVM or on fewer keys than the paced run overstated it by up to 10x.
    double rough = maximum(parallelism, calibrationEvents, 1_000);
    int shapedDevices = (int) Math.max(10, Math.round(10 * rough / 2));
    double max = maximum(parallelism, (int) Math.max(calibrationEvents, rough * 5), shapedDevices);
    double rate = max / 2;
    int events = (int) Math.max(1_000, rate * seconds);
    int devices = (int) Math.max(10, Math.round(10 * rate));
    log.printf("latency: maximum %,.0f events/s, paced at %,.0f events/s for %,d events of %,d devices%n", max, rate, events, devices);
    try (Dataset dataset = Dataset.generate(events, devices, true, ordered)) {
      Oracle oracle = Oracle.of(dataset.readings(), BenchSpec.LATENCY_STEP);
      RunClock.reset();
      CountingSink.reset();
      LatencySink.reset();
      JobSinks counting = VigilPipeline.countingSinks();
      JobSinks sinks =
          new JobSinks(
              counting.aggregates(),
              List.of(VigilPipeline.named(SCORES, new LatencySink<AnomalyScore>(SCORES, dataset, s -> s.getSource().getOffset()))),
              List.of(VigilPipeline.named(ALERTS, new LatencySink<Alert>(ALERTS, dataset, LatencySuite::lastMatchedPosition))),
              counting.ruleStatus(),
              counting.derived(),
              counting.deadLetters());
      StreamExecutionEnvironment env = BenchCluster.environment(parallelism, BenchSpec.jobConfiguration(spec));
      VigilPipeline.build(env, spec, MemorySource.paced(dataset, new EnvelopeConverter(spec.decode()), rate), sinks);
      cluster.execute(env, "bench latency");
      Percentiles alerts = Percentiles.of(LatencySink.latencies(ALERTS));
      Percentiles scores = Percentiles.of(LatencySink.latencies(SCORES));
      boolean ok = alerts.samples() == oracle.alerts() && scores.samples() == oracle.scores()
          && CountingSink.count(VigilPipeline.AGGREGATES) == oracle.windows() && CountingSink.count(VigilPipeline.DEAD_LETTERS) == 0;
      log.printf("  alerts %d (expected %d): p50 %.0f ms, p99 %.0f ms, max %.0f ms; scores %d: p50 %.1f ms, p99 %.1f ms%n",
          alerts.samples(), oracle.alerts(), alerts.p50(), alerts.p99(), alerts.max(), scores.samples(), scores.p50(), scores.p99());
      return new Result(parallelism, max, rate, events, alerts, scores, oracle.alerts(), ok);
    }
  }

  /** Events per second of one unpaced run of the job over {@code events} readings of {@code devices}. */
  private double maximum(int parallelism, int events, int devices) throws Exception {
    try (Dataset calibration = Dataset.generate(events, devices, false, ordered)) {
      RunClock.reset();
      CountingSink.reset();
      StreamExecutionEnvironment env = BenchCluster.environment(parallelism, BenchSpec.jobConfiguration(spec));
      VigilPipeline.build(env, spec, calibration);
      cluster.execute(env, "bench latency calibration");
      return events / (RunClock.interval().wallNanos() / 1e9);
    }
  }

  private static long lastMatchedPosition(Alert alert) {
    return alert.getEvents().get(alert.getEvents().size() - 1).getSource().getOffset();
  }
}
