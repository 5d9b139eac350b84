package io.vigil.jobs.reliability;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * An extra sink next to Vigil's real ones that throws inside the running job, the allround test's
 * FailureMapper idea: execution attempt k (k below {@code failures}) throws in subtask 0 once it has
 * written at least {@code minRecords} records and seen a checkpoint complete in this attempt (the
 * second checkpoint flush of an attempt, checkpoints running one at a time), or at the end of its
 * input if it got that far without failing, so each failure comes after progress that a restart
 * must neither lose nor repeat. Every record also costs {@code
 * millisPerRecord}, which keeps a bounded job running long enough for several checkpoints.
 */
final class InjectedFailureSink<T> implements Sink<T> {

  private static final long serialVersionUID = 1L;

  /** How many failures were thrown in this JVM; tests reset and assert it. */
  static final AtomicInteger FAILURES = new AtomicInteger();

  private final int failures;
  private final long minRecords;
  private final long millisPerRecord;

  InjectedFailureSink(int failures, long minRecords, long millisPerRecord) {
    this.failures = failures;
    this.minRecords = minRecords;
    this.millisPerRecord = millisPerRecord;
  }

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    int attempt = context.getTaskInfo().getAttemptNumber();
    boolean failing = context.getTaskInfo().getIndexOfThisSubtask() == 0 && attempt < failures;
    return new SinkWriter<>() {
      private int flushes;
      private long written;

      @Override
      public void write(T element, Context ctx) throws InterruptedException {
        written++;
        if (millisPerRecord > 0) {
          Thread.sleep(millisPerRecord);
        }
      }

      @Override
      public void flush(boolean endOfInput) {
        flushes++;
        // At the end of input an attempt that has not failed yet fails anyway (once it wrote
        // something): on a fast machine a restored attempt may not reach two checkpoints.
        boolean due = endOfInput ? written > 0 : flushes >= 2 && written >= minRecords;
        if (failing && due && FAILURES.get() == attempt) {
          FAILURES.incrementAndGet();
          throw new IllegalStateException("injected failure " + (attempt + 1) + " of " + failures + " after " + written + " records");
        }
      }

      @Override
      public void close() {}
    };
  }
}
