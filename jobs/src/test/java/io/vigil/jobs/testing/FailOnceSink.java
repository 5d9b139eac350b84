package io.vigil.jobs.testing;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Injects one failure: in the first execution attempt, the writer throws at the first checkpoint
 * flush that comes after at least one completed checkpoint (checkpoints here run one at a time,
 * so the second flush means the first checkpoint completed) and after records were written since
 * the previous flush, so there is uncommitted output for the failure to put at risk; or, should the
 * input end first, at the final flush. Until then each record costs a millisecond, so that the first
 * attempt lives through several checkpoints.
 */
public final class FailOnceSink<T> implements Sink<T> {

  private static final long serialVersionUID = 1L;

  /** How many failures were injected in this JVM; tests assert it so they cannot pass vacuously. */
  public static final AtomicInteger FAILURES = new AtomicInteger();

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    boolean firstAttempt = context.getTaskInfo().getAttemptNumber() == 0;
    return new SinkWriter<>() {
      private int flushes;
      private long sinceFlush;
      private long written;

      @Override
      public void write(T element, Context ctx) throws InterruptedException {
        sinceFlush++;
        written++;
        if (firstAttempt && FAILURES.get() == 0) {
          // Keeps the first attempt running through several checkpoints however fast the machine.
          Thread.sleep(1);
        }
      }

      @Override
      public void flush(boolean endOfInput) {
        flushes++;
        boolean due = endOfInput ? written > 0 : flushes >= 2 && sinceFlush > 0;
        if (firstAttempt && due && FAILURES.get() == 0) {
          FAILURES.incrementAndGet();
          throw new IllegalStateException("injected failure after a completed checkpoint");
        }
        sinceFlush = 0;
      }

      @Override
      public void close() {}
    };
  }
}
