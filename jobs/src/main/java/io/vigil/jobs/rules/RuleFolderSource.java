package io.vigil.jobs.rules;

import io.vigil.cep.engine.RuleCommands;
import io.vigil.schemas.RuleCommand;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A source of {@link RuleCommand}s from a watched rules folder ({@link RuleFolderWatch}): it scans
 * the folder when it starts and then every poll interval, and emits a command per change.
 *
 * <p>Run it at parallelism 1: there is one split, the folder, and its state is what the scans have
 * seen. That state is checkpointed with the reader, and a scan's commands are emitted in the same
 * step that records them, so a restore resumes from exactly what was sent before the checkpoint:
 * no rule is sent again as a duplicate ADD (which the engine would reject), and a change made
 * while the job was down is sent once, after the restore.
 *
 * <p>{@code continuous = false} makes it scan once and finish, for bounded runs (the job ends when
 * its input does).
 *
 * <p>Event time: the reader declares the end of time itself, right after its first scan's
 * commands, and never before; read it with {@link #watermarks()}. Until then the rule engine holds
 * events back, so rules that are in the folder when the job starts apply from the first event on,
 * even when a backlog of events is read faster than the folder is scanned.
 */
public final class RuleFolderSource
    implements Source<RuleCommand, RuleFolderSource.FolderSplit, Boolean>, ResultTypeQueryable<RuleCommand> {

  private static final long serialVersionUID = 1L;

  private final String folder;
  private final List<String> eventTypes;
  private final String keyField;
  private final long pollMillis;
  private final boolean continuous;

  /**
   * @param eventTypes the event types the job's rule engine receives
   * @param keyField the job's key field
   */
  public RuleFolderSource(Path folder, List<String> eventTypes, String keyField, Duration pollInterval, boolean continuous) {
    this.folder = folder.toAbsolutePath().toString();
    this.eventTypes = List.copyOf(eventTypes);
    this.keyField = keyField;
    this.pollMillis = pollInterval.toMillis();
    this.continuous = continuous;
  }

  /**
   * The watermark strategy to read this source with: none of its own, so the only watermark is the
   * one the reader emits after its first scan.
   */
  public static WatermarkStrategy<RuleCommand> watermarks() {
    return WatermarkStrategy.noWatermarks();
  }

  @Override
  public Boundedness getBoundedness() {
    return continuous ? Boundedness.CONTINUOUS_UNBOUNDED : Boundedness.BOUNDED;
  }

  @Override
  public TypeInformation<RuleCommand> getProducedType() {
    return RuleCommands.TYPE;
  }

  @Override
  public SourceReader<RuleCommand, FolderSplit> createReader(SourceReaderContext context) {
    return new Reader(this);
  }

  @Override
  public SplitEnumerator<FolderSplit, Boolean> createEnumerator(SplitEnumeratorContext<FolderSplit> context) {
    return new Enumerator(context, false);
  }

  @Override
  public SplitEnumerator<FolderSplit, Boolean> restoreEnumerator(SplitEnumeratorContext<FolderSplit> context, Boolean assigned) {
    return new Enumerator(context, assigned);
  }

  @Override
  public SimpleVersionedSerializer<FolderSplit> getSplitSerializer() {
    return new SplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<Boolean> getEnumeratorCheckpointSerializer() {
    return new AssignedSerializer();
  }

  /** The one split: the folder, with what the scans have seen of it. */
  public record FolderSplit(Map<String, RuleFolderWatch.Known> known) implements SourceSplit {
    @Override
    public String splitId() {
      return "rules-folder";
    }
  }

  /**
   * Hands the split to the first reader. Its state is only whether it did: once the split is
   * with a reader, the reader's checkpointed state carries it; a split added back after a failure
   * (handed out after the last checkpoint) is handed out afresh.
   */
  private static final class Enumerator implements SplitEnumerator<FolderSplit, Boolean> {
    private final SplitEnumeratorContext<FolderSplit> context;
    private boolean assigned;

    Enumerator(SplitEnumeratorContext<FolderSplit> context, boolean assigned) {
      this.context = context;
      this.assigned = assigned;
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {}

    @Override
    public void addSplitsBack(List<FolderSplit> splits, int subtaskId) {
      assigned = false;
    }

    @Override
    public void addReader(int subtaskId) {
      if (!assigned) {
        context.assignSplit(new FolderSplit(Map.of()), subtaskId);
        assigned = true;
      }
    }

    @Override
    public Boolean snapshotState(long checkpointId) {
      return assigned;
    }

    @Override
    public void close() {}
  }

  /** Scans on start and every poll interval; emits each scan's commands in one step. */
  private static final class Reader implements SourceReader<RuleCommand, FolderSplit> {
    private final RuleFolderSource source;
    private RuleFolderWatch watch;
    private boolean scanned;
    private long nextScan;
    private CompletableFuture<Void> available = new CompletableFuture<>();

    Reader(RuleFolderSource source) {
      this.source = source;
    }

    @Override
    public void start() {}

    @Override
    public InputStatus pollNext(ReaderOutput<RuleCommand> output) {
      if (watch == null) {
        return InputStatus.NOTHING_AVAILABLE;
      }
      long now = System.currentTimeMillis();
      if (!scanned || now >= nextScan) {
        for (RuleCommand command : watch.scan()) {
          output.collect(command);
        }
        if (!scanned) {
          // Commands only ever apply to events after them, so once the first scan is out the
          // folder never holds event time back again.
          output.emitWatermark(new Watermark(Long.MAX_VALUE));
        }
        scanned = true;
        nextScan = now + source.pollMillis;
        if (!source.continuous) {
          return InputStatus.END_OF_INPUT;
        }
      }
      available = CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(Math.max(1, nextScan - now), TimeUnit.MILLISECONDS));
      return InputStatus.NOTHING_AVAILABLE;
    }

    @Override
    public List<FolderSplit> snapshotState(long checkpointId) {
      return watch == null ? List.of() : List.of(new FolderSplit(watch.known()));
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
      return available;
    }

    @Override
    public void addSplits(List<FolderSplit> splits) {
      watch = new RuleFolderWatch(Path.of(source.folder), Set.copyOf(source.eventTypes), source.keyField, splits.get(0).known());
      available.complete(null);
    }

    @Override
    public void notifyNoMoreSplits() {}

    @Override
    public void close() {}
  }

  private static final class SplitSerializer implements SimpleVersionedSerializer<FolderSplit> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(FolderSplit split) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeInt(split.known().size());
        for (Map.Entry<String, RuleFolderWatch.Known> e : new TreeMap<>(split.known()).entrySet()) {
          RuleFolderWatch.Known k = e.getValue();
          out.writeUTF(e.getKey());
          out.writeBoolean(k.ruleId() != null);
          if (k.ruleId() != null) {
            out.writeUTF(k.ruleId());
          }
          out.writeInt(k.version());
          out.writeBoolean(k.enabled());
          out.writeUTF(k.hash());
        }
      }
      return bytes.toByteArray();
    }

    @Override
    public FolderSplit deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1) {
        throw new IOException("unknown rules-folder split version " + version);
      }
      Map<String, RuleFolderWatch.Known> known = new TreeMap<>();
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
          String name = in.readUTF();
          String ruleId = in.readBoolean() ? in.readUTF() : null;
          known.put(name, new RuleFolderWatch.Known(ruleId, in.readInt(), in.readBoolean(), in.readUTF()));
        }
      }
      return new FolderSplit(known);
    }
  }

  private static final class AssignedSerializer implements SimpleVersionedSerializer<Boolean> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(Boolean assigned) {
      return new byte[] {(byte) (assigned ? 1 : 0)};
    }

    @Override
    public Boolean deserialize(int version, byte[] serialized) {
      return serialized.length > 0 && serialized[0] == 1;
    }
  }
}
