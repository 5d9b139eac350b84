package io.vigil.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * The measured interval of one pipeline run, in wall time and process CPU time: from the first
 * record a source emits to the end of input at the last sink. MiniCluster start-up, job
 * deployment and teardown fall outside it.
 *
 * <p>Static because the pipeline runs on a MiniCluster in this process, where sources and sinks
 * are deserialized copies that cannot hold a reference to the runner. One run at a time: {@link
 * #reset} before each.
 *
 * <p>A run may also count the CPU time of another process it depends on (the Kafka suite's
 * broker): {@link #countExternal} names it, and the same marks read it.
 */
public final class RunClock {

  private static final OperatingSystemMXBean OS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private static final LongSupplier NO_EXTERNAL = () -> 0;

  private static LongSupplier external = NO_EXTERNAL;
  private static long startWall;
  private static long startCpu;
  private static long startExternal;
  private static long endWall;
  private static long endCpu;
  private static long endExternal;

  private RunClock() {}

  /** CPU time of every thread of this process (JIT and GC included), in nanoseconds. */
  public static long processCpuNanos() {
    return OS.getProcessCpuTime();
  }

  public static synchronized void reset() {
    startWall = 0;
    startCpu = 0;
    startExternal = 0;
    endWall = 0;
    endCpu = 0;
    endExternal = 0;
  }

  /**
   * From now on, the marks also read {@code cpuNanos}: the CPU time of another process (cumulative,
   * in nanoseconds), reported as {@link Interval#externalCpuNanos}; null stops it.
   */
  public static synchronized void countExternal(LongSupplier cpuNanos) {
    external = cpuNanos == null ? NO_EXTERNAL : cpuNanos;
  }

  /** Called by each source reader before its first record; the earliest call counts. */
  public static synchronized void markStart() {
    if (startWall == 0) {
      startWall = System.nanoTime();
      startCpu = processCpuNanos();
      startExternal = external.getAsLong();
    }
  }

  /** Called by each sink at end of input; the latest call counts. */
  public static synchronized void markEnd() {
    endWall = System.nanoTime();
    endCpu = processCpuNanos();
    endExternal = external.getAsLong();
  }

  /** The interval of the last run; throws if a source or sink never reported. */
  public static synchronized Interval interval() {
    if (startWall == 0 || endWall == 0) {
      throw new IllegalStateException("the run has no start or no end mark");
    }
    return new Interval(endWall - startWall, endCpu - startCpu, endExternal - startExternal);
  }

  /** Wall, process CPU and the external process's CPU nanoseconds (0 without one). */
  public record Interval(long wallNanos, long cpuNanos, long externalCpuNanos) {}
}
