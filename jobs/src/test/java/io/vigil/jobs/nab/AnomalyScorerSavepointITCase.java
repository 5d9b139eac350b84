package io.vigil.jobs.nab;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.anomaly.AnomalyScorer;
import io.vigil.functions.anomaly.DetectorSpec;
import io.vigil.functions.anomaly.Detectors;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.SourceRef;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The anomaly operator's model survives a real savepoint: a job on a mini-cluster (parallelism 2,
 * RocksDB state backend) scores the first rows of several keys, is stopped with a savepoint
 * mid-series, and a new job restored from it scores the rest. The scores of both parts together
 * must equal those of one uninterrupted job, record for record.
 */
class AnomalyScorerSavepointITCase {

  private static final int KEYS = 4;
  private static final int ROWS = 700;
  private static final int CUT = 420;
  private static final long START = 1_700_000_000_000L;
  private static final long MINUTE = 60_000L;

  @RegisterExtension
  static final MiniClusterExtension CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setConfiguration(rocksDb())
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  /** What the sink of the running job received; the mini-cluster runs in this JVM. */
  private static final ConcurrentLinkedQueue<AnomalyScore> RECEIVED =
      new ConcurrentLinkedQueue<>();

  @Test
  void scoresAfterStopWithSavepointAndRestoreEqualAnUninterruptedRun(
      @InjectClusterClient ClusterClient<?> client, @TempDir Path savepoints) throws Exception {
    RECEIVED.clear();
    JobID whole = client.submitJob(jobGraph(0, ROWS, false, null)).get();
    client.requestJobResult(whole).get(2, TimeUnit.MINUTES);
    List<AnomalyScore> uninterrupted = sorted(RECEIVED);
    assertThat(uninterrupted).hasSize(KEYS * ROWS);

    RECEIVED.clear();
    JobID first = client.submitJob(jobGraph(0, CUT, true, null)).get();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (RECEIVED.size() < KEYS * CUT && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(RECEIVED).hasSize(KEYS * CUT);
    String savepoint =
        client
            .stopWithSavepoint(first, false, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
            .get(2, TimeUnit.MINUTES);
    JobID second = client.submitJob(jobGraph(CUT, ROWS, false, savepoint)).get();
    client.requestJobResult(second).get(2, TimeUnit.MINUTES);
    List<AnomalyScore> restored = sorted(RECEIVED);

    assertThat(restored).hasSize(KEYS * ROWS);
    assertThat(restored).isEqualTo(uninterrupted);
    // The series carry a spike after the cut, so the restored model had real work to do.
    assertThat(restored.stream().filter(s -> s.getSource().getOffset() >= CUT))
        .anyMatch(AnomalyScore::getAnomalous);
  }

  /**
   * A job over rows {@code [from, to)} of every key. With {@code keepRunning}, the source keeps
   * emitting rows that are dropped before the scorer, so the job runs until it is stopped.
   */
  private static JobGraph jobGraph(int from, int to, boolean keepRunning, String savepoint) {
    Configuration conf = new Configuration();
    conf.set(PipelineOptions.GENERIC_TYPES, false);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(2);
    long rows = (long) KEYS * (to - from);
    TypeInformation<GenericRecord> envelopeType = Envelopes.typeInfo(NabBenchmark.POINT_SCHEMA);
    DataGeneratorSource<GenericRecord> source =
        new DataGeneratorSource<>(
            i -> envelope(from, i),
            keepRunning ? Long.MAX_VALUE : rows,
            RateLimiterStrategy.perSecond(2000),
            envelopeType);
    // Different uids per part: the finished first source must not be restored into the second.
    DataStream<GenericRecord> input =
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "rows")
            .setParallelism(1)
            .uid("rows-from-" + from)
            .filter(e -> Envelopes.source(e).getOffset() < to)
            .setParallelism(1)
            .uid("rows-until-" + to);
    DetectorSpec spec =
        new DetectorSpec("nab", List.of("value"), Detectors.DEFAULT, 0.9, List.of(), Duration.ofDays(30));
    input
        .keyBy(Envelopes::key, Types.STRING)
        .process(new AnomalyScorer(spec, "NabPoint"), TypeInformation.of(AnomalyScore.class))
        .uid("scorer")
        .sinkTo(new QueueSink())
        .uid("sink");
    JobGraph graph = env.getStreamGraph().getJobGraph();
    if (savepoint != null) {
      graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint, true));
    }
    return graph;
  }

  /** Generated record {@code i}: row {@code from + i / KEYS} of key {@code i % KEYS}. */
  private static GenericRecord envelope(int from, long i) {
    int key = (int) (i % KEYS);
    long row = from + i / KEYS;
    GenericRecord point = new GenericData.Record(NabBenchmark.POINT_SCHEMA);
    long time = START + row * MINUTE;
    point.put("timestamp", time);
    point.put("value", value(key, row));
    return Envelopes.valid(
        Envelopes.schema(NabBenchmark.POINT_SCHEMA),
        new SourceRef("key-" + key, 0, row, null),
        new byte[0],
        "key-" + key,
        time,
        point);
  }

  /** A noisy daily cycle per key, with a spike well after the cut. */
  private static double value(int key, long row) {
    double noise = new Random(key * 100_003L + row).nextGaussian();
    double spike = row == 600 + 10 * key ? 40.0 : 0.0;
    return 20.0 + key + 2.0 * Math.sin(2 * Math.PI * row / 288.0) + noise + spike;
  }

  private static List<AnomalyScore> sorted(ConcurrentLinkedQueue<AnomalyScore> scores) {
    List<AnomalyScore> list = new ArrayList<>(scores);
    list.sort(
        Comparator.comparing((AnomalyScore s) -> s.getKey())
            .thenComparingLong(s -> s.getSource().getOffset()));
    return list;
  }

  private static Configuration rocksDb() {
    Configuration conf = new Configuration();
    conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
    return conf;
  }

  /** Appends every record to {@link #RECEIVED}. */
  private static final class QueueSink implements Sink<AnomalyScore> {
    @Override
    public SinkWriter<AnomalyScore> createWriter(WriterInitContext context) {
      return new SinkWriter<>() {
        @Override
        public void write(AnomalyScore element, Context context) {
          RECEIVED.add(element);
        }

        @Override
        public void flush(boolean endOfInput) {}

        @Override
        public void close() {}
      };
    }
  }
}
