package io.vigil.bench;

import java.util.Arrays;
import java.util.List;

/**
 * Repeated runs of one row at one parallelism, and their medians.
 *
 * @param row the row's name
 * @param parallelism the job's parallelism (1 for single-threaded rows)
 * @param runs every measured run, in order
 * @param outputsMatchOracle whether every run's output counts equalled the oracle's
 */
public record Measurement(String row, int parallelism, List<Run> runs, boolean outputsMatchOracle) {

  /**
   * One run: events processed, wall and process CPU nanoseconds of the measured interval, and the
   * CPU nanoseconds another process spent for it in the same interval (the Kafka broker; 0 for
   * runs without one).
   */
  public record Run(long events, long wallNanos, long cpuNanos, long externalCpuNanos) {

    public Run(long events, long wallNanos, long cpuNanos) {
      this(events, wallNanos, cpuNanos, 0);
    }

    public double eventsPerSecond() {
      return events / (wallNanos / 1e9);
    }

    /** Events per second of process CPU time: per core fully used. */
    public double eventsPerCoreSecond() {
      return events / (cpuNanos / 1e9);
    }

    /** Average number of cores the process kept busy. */
    public double coresUsed() {
      return cpuNanos / (double) wallNanos;
    }

    /** Events per second of this process's and the external process's CPU time together. */
    public double eventsPerCoreSecondWithExternal() {
      return events / ((cpuNanos + externalCpuNanos) / 1e9);
    }

    /** Average number of cores the external process kept busy. */
    public double externalCoresUsed() {
      return externalCpuNanos / (double) wallNanos;
    }
  }

  public double medianEventsPerSecond() {
    return median(runs.stream().mapToDouble(Run::eventsPerSecond).toArray());
  }

  public double medianEventsPerCoreSecond() {
    return median(runs.stream().mapToDouble(Run::eventsPerCoreSecond).toArray());
  }

  public double medianCoresUsed() {
    return median(runs.stream().mapToDouble(Run::coresUsed).toArray());
  }

  public double medianEventsPerCoreSecondWithExternal() {
    return median(runs.stream().mapToDouble(Run::eventsPerCoreSecondWithExternal).toArray());
  }

  public double medianExternalCoresUsed() {
    return median(runs.stream().mapToDouble(Run::externalCoresUsed).toArray());
  }

  public long events() {
    return runs.isEmpty() ? 0 : runs.get(0).events();
  }

  /** The median of the per-run ratios of this row's events per core-second to {@code base}'s (runs paired in order). */
  public double medianRatioPerCore(Measurement base) {
    int n = Math.min(runs.size(), base.runs.size());
    double[] ratios = new double[n];
    for (int i = 0; i < n; i++) {
      ratios[i] = runs.get(i).eventsPerCoreSecond() / base.runs.get(i).eventsPerCoreSecond();
    }
    return median(ratios);
  }

  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}
