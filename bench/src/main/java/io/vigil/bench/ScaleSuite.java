package io.vigil.bench;

import io.vigil.functions.anomaly.EwmaDetector;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsSnapshot;
import org.apache.flink.runtime.checkpoint.CompletedCheckpointStats;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.FileUtils;

/**
 * Keyed state at scale on RocksDB: one {@link EwmaDetector} model (Vigil's cheapest detector
 * state, 40 bytes) per key for {@code keys} distinct keys, then a tail of updates to existing keys
 * while periodic incremental checkpoints complete with every key in them. Reports the insert rate,
 * the largest heap use seen (sampled every 100 ms, whole process), and the checkpoints' duration
 * and size as Flink's own checkpoint statistics give them.
 *
 * <p>The keyed function registers no timers: Vigil runs timers on the heap ({@code
 * state.backend.rocksdb.timer-service.factory: HEAP}), and one per key would put every key on the
 * heap. The job runs on a MiniCluster of its own (one TaskManager, two slots, 256 MB of managed
 * memory for RocksDB), the source at parallelism 1 and the keyed operator at 2.
 */
public final class ScaleSuite {

  public static final String TITLE = "Keyed state at scale (RocksDB, incremental checkpoints)";

  private static final String NEW_KEYS = "scale.new-keys";
  private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

  private final PrintStream log;

  public ScaleSuite(PrintStream log) {
    this.log = log;
  }

  /**
   * @param seconds from job submission until the keyed function had seen every key
   * @param maxHeapBytes the largest heap use sampled, whole process
   * @param newKeys distinct keys the keyed function saw (the oracle: {@code keys})
   */
  public record Result(long keys, double seconds, double keysPerSecond, long maxHeapBytes, long heapLimitBytes,
      int completedCheckpoints, long lastCheckpointMillis, long maxCheckpointMillis, long lastFullSizeBytes,
      long lastIncrementalSizeBytes, long newKeys) {}

  public Result run(long keys, Duration checkpointInterval) throws Exception {
    Path checkpoints = Files.createTempDirectory("vigil-bench-scale");
    Configuration conf = new Configuration();
    conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
    conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
    conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, checkpointInterval);
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(256));
    conf.set(RestOptions.BIND_PORT, "0");
    conf.set(PipelineOptions.AUTO_GENERATE_UIDS, false);
    conf.set(PipelineOptions.GENERIC_TYPES, false);
    conf.set(PipelineOptions.OBJECT_REUSE, true);
    MiniClusterConfiguration cluster =
        new MiniClusterConfiguration.Builder().setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(2).build();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong maxHeap = new AtomicLong();
    Thread sampler = new Thread(() -> {
      while (running.get()) {
        maxHeap.accumulateAndGet(MEMORY.getHeapMemoryUsage().getUsed(), Math::max);
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "heap-sampler");
    // The tail: updates of existing keys for 2.5 checkpoint intervals, so that checkpoints with
    // every key complete before the input ends.
    long tailPerSecond = 200;
    long tail = Math.max(20, (long) (2.5 * checkpointInterval.toMillis() / 1000.0 * tailPerSecond));
    try (MiniCluster mini = new MiniCluster(cluster)) {
      mini.start();
      CountingSink.reset();
      StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
      env.setParallelism(2);
      env.fromSource(new DataGeneratorSource<>(new Keys(keys, tailPerSecond), keys + tail, RateLimiterStrategy.noOp(), Types.LONG),
              WatermarkStrategy.noWatermarks(), "Source: keys")
          .setParallelism(1)
          .uid("keys")
          .keyBy(k -> k, Types.LONG)
          .process(new EwmaPerKey())
          .returns(Types.LONG)
          .uid("ewma-per-key")
          .name("EWMA per key")
          .sinkTo(new CountingSink<>(NEW_KEYS))
          .uid("sink-new-keys")
          .name("Sink: new keys");
      System.gc();
      sampler.start();
      long start = System.nanoTime();
      JobID job = mini.submitJob(env.getStreamGraph()).get().getJobID();
      long insertedAt = 0;
      while (!mini.getJobStatus(job).get().isGloballyTerminalState()) {
        if (insertedAt == 0 && CountingSink.count(NEW_KEYS) >= keys) {
          insertedAt = System.nanoTime();
          log.printf("  %,d keys inserted in %.1f s%n", keys, (insertedAt - start) / 1e9);
        }
        Thread.sleep(200);
      }
      JobResult result = mini.requestJobResult(job).get();
      if (!result.isSuccess()) {
        throw new IllegalStateException("scale job failed", result.getSerializedThrowable().map(t -> t.deserializeError(getClass().getClassLoader())).orElse(null));
      }
      CheckpointStatsSnapshot stats = mini.getExecutionGraph(job).get().getCheckpointStatsSnapshot();
      running.set(false);
      sampler.join();
      double seconds = ((insertedAt == 0 ? System.nanoTime() : insertedAt) - start) / 1e9;
      CompletedCheckpointStats last = stats == null ? null : stats.getHistory().getLatestCompletedCheckpoint();
      long maxDuration = 0;
      int completed = 0;
      if (stats != null) {
        for (AbstractCheckpointStats c : stats.getHistory().getCheckpoints()) {
          if (c instanceof CompletedCheckpointStats) {
            completed++;
            maxDuration = Math.max(maxDuration, c.getEndToEndDuration());
          }
        }
      }
      return new Result(keys, seconds, keys / seconds, maxHeap.get(), Runtime.getRuntime().maxMemory(), completed,
          last == null ? 0 : last.getEndToEndDuration(), maxDuration, last == null ? 0 : last.getStateSize(),
          last == null ? 0 : last.getCheckpointedSize(), CountingSink.count(NEW_KEYS));
    } finally {
      running.set(false);
      FileUtils.deleteDirectoryQuietly(checkpoints.toFile());
    }
  }

  /** Keys 0 .. keys-1 as fast as possible, then existing keys at {@code tailPerSecond}. */
  private static final class Keys implements GeneratorFunction<Long, Long> {
    private static final long serialVersionUID = 1L;
    private final long keys;
    private final long tailPerSecond;

    Keys(long keys, long tailPerSecond) {
      this.keys = keys;
      this.tailPerSecond = tailPerSecond;
    }

    @Override
    public Long map(Long index) throws Exception {
      if (index < keys) {
        return index;
      }
      // Sleeping in the source's thread: barriers still pass between records.
      Thread.sleep(1000 / tailPerSecond);
      return index % keys;
    }
  }

  /** One EWMA model per key in RocksDB; emits the key the first time it is seen. */
  private static final class EwmaPerKey extends KeyedProcessFunction<Long, Long, Long> {
    private static final long serialVersionUID = 1L;
    private final EwmaDetector detector = new EwmaDetector();
    private transient ValueState<EwmaDetector.State> model;

    @Override
    public void open(OpenContext openContext) {
      model = getRuntimeContext().getState(new ValueStateDescriptor<>("model", detector.stateType()));
    }

    @Override
    public void processElement(Long key, Context ctx, Collector<Long> out) throws Exception {
      EwmaDetector.State state = model.value();
      boolean fresh = state == null;
      if (fresh) {
        state = detector.newState();
      }
      detector.update(state, 0, key % 100 / 10.0);
      model.update(state);
      if (fresh) {
        out.collect(key);
      }
    }
  }
}
