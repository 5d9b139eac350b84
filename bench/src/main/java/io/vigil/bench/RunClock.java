package io.vigil.bench;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;

/**
 * The measured interval of one pipeline run, in wall time and process CPU time: from the first
 * record a source emits to the end of input at the last sink. MiniCluster start-up, job
 * deployment and teardown fall outside it.
 *
 * <p>Static because the pipeline runs on a MiniCluster in this process, where sources and sinks
 * are deserialized copies that cannot hold a reference to the runner. One run at a time: {@link
 * #reset} before each.
 */
public final class RunClock {

  private static final OperatingSystemMXBean OS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private static long startWall;
  private static long startCpu;
  private static long endWall;
  private static long endCpu;

  private RunClock() {}

  /** CPU time of every thread of this process (JIT and GC included), in nanoseconds. */
  public static long processCpuNanos() {
    return OS.getProcessCpuTime();
  }

  public static synchronized void reset() {
    startWall = 0;
    startCpu = 0;
    endWall = 0;
    endCpu = 0;
  }

  /** Called by each source reader before its first record; the earliest call counts. */
  public static synchronized void markStart() {
    if (startWall == 0) {
      startWall = System.nanoTime();
      startCpu = processCpuNanos();
    }
  }

  /** Called by each sink at end of input; the latest call counts. */
  public static synchronized void markEnd() {
    endWall = System.nanoTime();
    endCpu = processCpuNanos();
  }

  /** The interval of the last run; throws if a source or sink never reported. */
  public static synchronized Interval interval() {
    if (startWall == 0 || endWall == 0) {
      throw new IllegalStateException("the run has no start or no end mark");
    }
    return new Interval(endWall - startWall, endCpu - startCpu);
  }

  /** Wall and process CPU nanoseconds. */
  public record Interval(long wallNanos, long cpuNanos) {}
}
