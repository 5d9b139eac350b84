package io.vigil.bench;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * A sink that records, for each record, how long ago the source emitted the input record it
 * stems from: {@code System.nanoTime()} now minus the {@link Dataset#ingestNanos} stamp of the
 * record's input position. Same process, same clock. Latencies are static per name (see {@link
 * RunClock}): {@link #reset} before each run.
 */
public final class LatencySink<T> implements Sink<T> {

  private static final long serialVersionUID = 1L;
  private static final Map<String, List<Long>> LATENCIES = new ConcurrentHashMap<>();

  /** The input position a record stems from (for an alert: its last matched event). */
  public interface PositionOf<T> extends Serializable {
    long position(T record);
  }

  private final String name;
  private final String datasetId;
  private final PositionOf<T> positionOf;

  public LatencySink(String name, Dataset dataset, PositionOf<T> positionOf) {
    if (dataset.ingestNanos() == null) {
      throw new IllegalArgumentException("dataset " + dataset.id() + " is not stamped");
    }
    this.name = name;
    this.datasetId = dataset.id();
    this.positionOf = positionOf;
  }

  public static void reset() {
    LATENCIES.clear();
  }

  /** Latencies recorded under {@code name}, in nanoseconds, in arrival order. */
  public static List<Long> latencies(String name) {
    List<Long> list = LATENCIES.get(name);
    if (list == null) {
      return List.of();
    }
    synchronized (list) {
      return new ArrayList<>(list);
    }
  }

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    long[] stamps = Dataset.byId(datasetId).ingestNanos();
    List<Long> list = LATENCIES.computeIfAbsent(name, n -> new ArrayList<>());
    return new SinkWriter<>() {
      @Override
      public void write(T element, Context context) {
        long now = System.nanoTime();
        long latency = now - stamps[(int) positionOf.position(element)];
        synchronized (list) {
          list.add(latency);
        }
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
