package io.vigil.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * A sink that drops its records after counting them under a name, and marks the end of the
 * measured interval ({@link RunClock#markEnd}) at end of input. The counts let a run be checked
 * against an oracle; counting costs one uncontended add per record.
 *
 * <p>Counts are static (see {@link RunClock}): {@link #reset} before each run.
 */
public final class CountingSink<T> implements Sink<T> {

  private static final long serialVersionUID = 1L;
  private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();

  private final String name;

  public CountingSink(String name) {
    this.name = name;
  }

  public static void reset() {
    COUNTS.clear();
  }

  /** Records counted under {@code name} since the last reset. */
  public static long count(String name) {
    LongAdder adder = COUNTS.get(name);
    return adder == null ? 0 : adder.sum();
  }

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    LongAdder adder = COUNTS.computeIfAbsent(name, n -> new LongAdder());
    return new SinkWriter<>() {
      @Override
      public void write(T element, Context context) {
        adder.increment();
      }

      @Override
      public void flush(boolean endOfInput) {
        if (endOfInput) {
          RunClock.markEnd();
        }
      }

      @Override
      public void close() {}
    };
  }
}
