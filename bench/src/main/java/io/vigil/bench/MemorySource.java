package io.vigil.bench;

import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A bounded source over a {@link Dataset} in this process's memory: reader {@code s} of {@code p}
 * emits records {@code s, s + p, s + 2p, ...}, so every reader's stream covers the whole event-time
 * range in order (contiguous ranges would put one reader's events far ahead of the other's, and
 * measure a backlog instead of a stream). Each record is handed to a {@link Converter} (for
 * example Vigil's decoder) before it is emitted, so decoding runs in the source as it does with
 * Kafka.
 *
 * <p>Readers emit nothing for the first {@link #START_DELAY_MILLIS} after they start (outside the
 * measured interval, which begins at the first record): the Vigil job's start-up rules come from
 * a source of their own, and the engine applies a rule to events ahead of the watermark it has
 * when the rule arrives. The delay makes sure every rule is in place before the first watermark,
 * so each run's alerts equal the oracle's and runs stay comparable.
 *
 * <p>Options: {@code repeat} plays the dataset that many times (positions wrap around; only for
 * pipelines without event-time state); {@code eventsPerSecond} > 0 paces the source and, if the
 * dataset is stamped, records each record's emission time. Paced readers share one clock, the
 * dataset's {@link Dataset#pacingEpoch}: position {@code n} is due {@code n / eventsPerSecond}
 * after it, whichever reader emits it. So the readers stay level in event time as the partitions
 * of a live topic do, and a reader that starts later catches up instead of holding every
 * downstream watermark back by its delay.
 */
public final class MemorySource<T> implements Source<T, MemorySource.Split, Void> {

  private static final long serialVersionUID = 1L;

  /** How long readers wait after start before their first record. */
  public static final long START_DELAY_MILLIS = 1_000;

  /** Turns one record's bytes into what the source emits. A copy runs in every reader. */
  public interface Converter<T> extends Serializable {
    /** @param position the record's position in the (repeated) input: unique per run */
    T convert(byte[] value, long position);
  }

  private final String datasetId;
  private final Converter<T> converter;
  private final int repeat;
  private final double eventsPerSecond;

  private MemorySource(String datasetId, Converter<T> converter, int repeat, double eventsPerSecond) {
    this.datasetId = datasetId;
    this.converter = converter;
    this.repeat = repeat;
    this.eventsPerSecond = eventsPerSecond;
  }

  /** The dataset once, as fast as the job takes it. */
  public static <T> MemorySource<T> of(Dataset dataset, Converter<T> converter) {
    return new MemorySource<>(dataset.id(), converter, 1, 0);
  }

  /** The dataset {@code repeat} times, as fast as the job takes it. */
  public static <T> MemorySource<T> repeated(Dataset dataset, Converter<T> converter, int repeat) {
    return new MemorySource<>(dataset.id(), converter, repeat, 0);
  }

  /** The dataset once at {@code eventsPerSecond} in total. */
  public static <T> MemorySource<T> paced(Dataset dataset, Converter<T> converter, double eventsPerSecond) {
    return new MemorySource<>(dataset.id(), converter, 1, eventsPerSecond);
  }

  @Override
  public Boundedness getBoundedness() {
    return Boundedness.BOUNDED;
  }

  @Override
  public SourceReader<T, Split> createReader(SourceReaderContext context) {
    Dataset dataset = Dataset.byId(datasetId);
    return new Reader<>(dataset, converter, (long) dataset.size() * repeat, eventsPerSecond);
  }

  @Override
  public SplitEnumerator<Split, Void> createEnumerator(SplitEnumeratorContext<Split> context) {
    return new Enumerator(context);
  }

  @Override
  public SplitEnumerator<Split, Void> restoreEnumerator(SplitEnumeratorContext<Split> context, Void checkpoint) {
    return new Enumerator(context);
  }

  @Override
  public SimpleVersionedSerializer<Split> getSplitSerializer() {
    return new SplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<Void> getEnumeratorCheckpointSerializer() {
    return new NoCheckpointSerializer();
  }

  /** Reader {@code offset}'s share: positions offset + k * stride, from k = next. */
  public record Split(int offset, int stride, long next) implements SourceSplit {
    @Override
    public String splitId() {
      return Integer.toString(offset);
    }
  }

  /** One split per reader, assigned when the reader registers; a split given back is re-assigned. */
  private static final class Enumerator implements SplitEnumerator<Split, Void> {
    private final SplitEnumeratorContext<Split> context;
    private final List<Split> returned = new ArrayList<>();

    Enumerator(SplitEnumeratorContext<Split> context) {
      this.context = context;
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {}

    @Override
    public void addSplitsBack(List<Split> splits, int subtaskId) {
      returned.addAll(splits);
    }

    @Override
    public void addReader(int subtaskId) {
      Split split = null;
      for (Split s : returned) {
        if (s.offset() == subtaskId) {
          split = s;
        }
      }
      if (split != null) {
        returned.remove(split);
      } else {
        split = new Split(subtaskId, context.currentParallelism(), 0);
      }
      context.assignSplit(split, subtaskId);
      context.signalNoMoreSplits(subtaskId);
    }

    @Override
    public Void snapshotState(long checkpointId) {
      return null;
    }

    @Override
    public void close() {}
  }

  private static final class Reader<T> implements SourceReader<T, Split> {
    private final Dataset dataset;
    private final Converter<T> converter;
    private final long total;
    private final double nanosPerPosition;
    private final long[] stamps;
    private final Deque<Split> splits = new ArrayDeque<>();
    private final CompletableFuture<Void> splitsArrived = new CompletableFuture<>();
    private CompletableFuture<Void> startGate = new CompletableFuture<>();
    private boolean noMoreSplits;
    private int offset;
    private int stride;
    private long next;
    private boolean reading;
    private long pacingEpoch;

    Reader(Dataset dataset, Converter<T> converter, long total, double eventsPerSecond) {
      this.dataset = dataset;
      this.converter = converter;
      this.total = total;
      this.nanosPerPosition = eventsPerSecond > 0 ? 1e9 / eventsPerSecond : 0;
      this.stamps = nanosPerPosition > 0 ? dataset.ingestNanos() : null;
    }

    @Override
    public void start() {
      startGate = CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(START_DELAY_MILLIS, TimeUnit.MILLISECONDS));
    }

    @Override
    public InputStatus pollNext(ReaderOutput<T> output) {
      if (!startGate.isDone()) {
        return InputStatus.NOTHING_AVAILABLE;
      }
      if (!reading) {
        Split split = splits.poll();
        if (split == null) {
          return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
        }
        offset = split.offset();
        stride = split.stride();
        next = split.next();
        reading = true;
        RunClock.markStart();
        pacingEpoch = dataset.pacingEpoch(System.nanoTime());
      }
      long position = offset + next * stride;
      if (position >= total) {
        reading = false;
        return splits.isEmpty() && noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.MORE_AVAILABLE;
      }
      if (nanosPerPosition > 0) {
        // Sleeping here holds up this task's mailbox for under a millisecond at a time, which the
        // paced (latency) runs accept: their rate is far below what the task can do.
        long due = pacingEpoch + (long) (position * nanosPerPosition);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(Math.min(wait, 1_000_000));
          return InputStatus.MORE_AVAILABLE;
        }
      }
      int index = (int) (position % dataset.size());
      if (stamps != null) {
        stamps[index] = System.nanoTime();
      }
      output.collect(converter.convert(dataset.value(index), position));
      next++;
      return InputStatus.MORE_AVAILABLE;
    }

    @Override
    public List<Split> snapshotState(long checkpointId) {
      List<Split> state = new ArrayList<>();
      if (reading) {
        state.add(new Split(offset, stride, next));
      }
      state.addAll(splits);
      return state;
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
      return CompletableFuture.allOf(startGate, splitsArrived);
    }

    @Override
    public void addSplits(List<Split> newSplits) {
      splits.addAll(newSplits);
      splitsArrived.complete(null);
    }

    @Override
    public void notifyNoMoreSplits() {
      noMoreSplits = true;
      splitsArrived.complete(null);
    }

    @Override
    public void close() {}
  }

  private static final class SplitSerializer implements SimpleVersionedSerializer<Split> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(Split split) {
      return ByteBuffer.allocate(16).putInt(split.offset()).putInt(split.stride()).putLong(split.next()).array();
    }

    @Override
    public Split deserialize(int version, byte[] bytes) throws IOException {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      return new Split(buffer.getInt(), buffer.getInt(), buffer.getLong());
    }
  }

  private static final class NoCheckpointSerializer implements SimpleVersionedSerializer<Void> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(Void checkpoint) {
      return new byte[0];
    }

    @Override
    public Void deserialize(int version, byte[] bytes) {
      return null;
    }
  }
}
