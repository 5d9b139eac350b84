package io.vigil.bench.kafka;

import io.vigil.bench.BenchCluster;
import io.vigil.bench.BenchSpec;
import io.vigil.bench.CountingSink;
import io.vigil.bench.Dataset;
import io.vigil.bench.Measurement;
import io.vigil.bench.Oracle;
import io.vigil.bench.RunClock;
import io.vigil.bench.ThroughputSuite;
import io.vigil.bench.pipeline.HandWrittenJob;
import io.vigil.bench.pipeline.LimitJob;
import io.vigil.bench.pipeline.VigilPipeline;
import io.vigil.jobs.JobSinks;
import io.vigil.jobs.connectors.Connectors;
import io.vigil.jobs.kafka.CommittedRecords;
import io.vigil.jobs.options.VigilOptions;
import io.vigil.jobs.spec.CompiledSpec;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Kafka table: the rows of {@link ThroughputSuite} with a real broker ({@link BrokerProcess})
 * as source and sink, scheduled by {@link ThroughputSuite#rounds}.
 *
 * <ul>
 *   <li>Before any run, the {@link Dataset}'s pre-encoded Avro single-object records are written
 *       once to the input topic ({@link #PARTITIONS} partitions, keyed by device, so each
 *       partition holds its devices' readings in dataset order).
 *   <li><b>limit</b>: Kafka source (decode + validate) -> dead-letter routing -> an exactly-once
 *       Kafka sink of every valid record's bytes ({@link LimitJob}).
 *   <li><b>vigil</b>: {@code bench-spec.yaml} with an {@code input.kafka} section and exactly-once
 *       Kafka outputs for aggregates, scores, alerts and dead letters ({@link
 *       BenchSpec#withKafka}), wired as {@code vigil run} wires it: {@link Connectors#sinks},
 *       {@link Connectors#verifyTransactionTimeouts}, and the bounded source of {@link
 *       BenchConnectors}; plus a counting rule-status sink, on whose first status (the start-up
 *       rule is in place) the source starts.
 *   <li><b>hand-written</b>: {@link HandWrittenJob} with a Kafka source of the same decoder and
 *       exactly-once Kafka sinks writing its results as JSON.
 * </ul>
 *
 * Each run writes to topics of its own. The measured interval runs from the first record a source
 * deserializes until the output is visible to {@code read_committed} consumers: a bounded job ends
 * after its final checkpoint, whose completion commits the sinks' last transactions, and the
 * interval ends when the broker has written their commit markers ({@link #awaitCommitMarkers}). The broker's
 * CPU time in the same interval is read from its process ({@link RunClock#countExternal}). Outputs
 * are then read back {@code read_committed} ({@link CommittedRecords}) and their counts compared
 * with {@link Oracle}; the run's topics are deleted afterwards.
 */
public final class KafkaSuite implements AutoCloseable {

  public static final String TITLE = "Kafka source and sink (MiniCluster, KRaft broker in its own JVM, exactly-once sinks)";

  /** Partitions of the input and of every output topic. */
  public static final int PARTITIONS = 4;

  static final String INPUT = "bench-input";

  private static final String VALID = "valid";

  private static final Duration MARKER_TIMEOUT = Duration.ofSeconds(30);

  private final BenchCluster cluster;
  private final CompiledSpec spec;
  private final BrokerProcess broker;
  private final Dataset dataset;
  private final Oracle oracle;
  private final PrintStream log;
  private final Admin admin;
  private int runs;

  /** @param spec the bench spec with the table's Flink configuration (state backend, checkpoints) */
  public KafkaSuite(BenchCluster cluster, CompiledSpec spec, BrokerProcess broker, Dataset dataset, PrintStream log) {
    this.cluster = cluster;
    this.spec = spec;
    this.broker = broker;
    this.dataset = dataset;
    this.oracle = Oracle.of(dataset.readings());
    this.log = log;
    this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }

  public Oracle oracle() {
    return oracle;
  }

  /** Writes the input topic, then runs {@code rows} (of {@link ThroughputSuite#ROWS}); one measurement per row and parallelism. */
  public List<Measurement> run(List<String> rows, List<Integer> parallelisms, int rounds, boolean warmUp) throws Exception {
    log.printf("kafka: %,d events (%,d devices) in %d partitions at %s%n", dataset.size(), dataset.devices(), PARTITIONS, broker.bootstrapServers());
    createTopics(List.of(INPUT));
    produceInput();
    RunClock.countExternal(broker::cpuNanos);
    try {
      return ThroughputSuite.rounds(rows, parallelisms, rounds, warmUp, this::runOnce, log);
    } finally {
      RunClock.countExternal(null);
    }
  }

  @Override
  public void close() {
    admin.close();
  }

  private void produceInput() throws Exception {
    Map<String, Object> props = new LinkedHashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < dataset.size(); i++) {
        byte[] key = dataset.readings().get(i).getDeviceId().getBytes(StandardCharsets.UTF_8);
        producer.send(new ProducerRecord<>(INPUT, key, dataset.value(i)));
      }
      producer.flush();
    }
  }

  private ThroughputSuite.Outcome runOnce(String row, int parallelism) throws Exception {
    String prefix = "bench-" + (++runs) + "-" + row;
    CompiledSpec kafkaSpec = BenchSpec.withKafka(spec, broker.bootstrapServers(), INPUT, prefix, prefix);
    List<String> topics = new ArrayList<>();
    for (String kind : row.equals(ThroughputSuite.LIMIT) ? List.of(VALID) : BenchSpec.KAFKA_OUTPUTS) {
      topics.add(BenchSpec.outputTopic(prefix, kind));
    }
    createTopics(topics);
    Duration transactionTimeout = kafkaSpec.configuration().get(VigilOptions.KAFKA_TRANSACTION_TIMEOUT);
    String bootstrap = broker.bootstrapServers();

    RunClock.reset();
    CountingSink.reset();
    StreamExecutionEnvironment env = BenchCluster.environment(parallelism, BenchSpec.jobConfiguration(kafkaSpec));
    long events = dataset.size();
    switch (row) {
      case ThroughputSuite.LIMIT ->
          LimitJob.build(env, kafkaSpec, BenchConnectors.envelopes(kafkaSpec, null), BenchConnectors.payloads(bootstrap, topics.get(0), transactionTimeout));
      case ThroughputSuite.VIGIL -> {
        Connectors.verifyTransactionTimeouts(kafkaSpec);
        JobSinks kafka = Connectors.sinks(kafkaSpec);
        // Plus a counting rule-status sink (the spec has no status output): the source waits for it.
        JobSinks sinks = new JobSinks(kafka.aggregates(), kafka.scores(), kafka.alerts(),
            List.of(VigilPipeline.named(VigilPipeline.RULE_STATUS, new CountingSink<>(VigilPipeline.RULE_STATUS))), kafka.derived(), kafka.deadLetters());
        VigilPipeline.build(env, kafkaSpec, BenchConnectors.envelopes(kafkaSpec, VigilPipeline.RULE_STATUS), sinks);
      }
      case ThroughputSuite.HAND ->
          HandWrittenJob.build(env, kafkaSpec, BenchConnectors.readings(kafkaSpec), new HandWrittenJob.Sinks(
              BenchConnectors.json(bootstrap, topics.get(0), transactionTimeout, r -> r.aggregation + "/" + r.key),
              BenchConnectors.json(bootstrap, topics.get(1), transactionTimeout, s -> s.key),
              BenchConnectors.json(bootstrap, topics.get(2), transactionTimeout, a -> a.key),
              BenchConnectors.json(bootstrap, topics.get(3), transactionTimeout, r -> r.deviceId == null ? "invalid" : r.deviceId)));
      default -> throw new IllegalArgumentException(row);
    }
    cluster.execute(env, "bench kafka " + row);
    awaitCommitMarkers(topics);
    RunClock.markEnd();
    RunClock.Interval interval = RunClock.interval();

    boolean matches;
    String detail;
    if (row.equals(ThroughputSuite.LIMIT)) {
      long valid = committed(topics.get(0));
      long dead = CountingSink.count(LimitJob.DEAD_LETTERS);
      matches = valid == events && dead == 0;
      detail = "valid " + valid + ", dead letters " + dead + "; expected " + events + ", 0";
    } else {
      ThroughputSuite.Counts c = new ThroughputSuite.Counts(committed(topics.get(0)), committed(topics.get(1)), committed(topics.get(2)), committed(topics.get(3)));
      matches = c.matches(oracle);
      detail = c.describe(oracle) + ", read_committed";
    }
    admin.deleteTopics(topics).all().get();
    return new ThroughputSuite.Outcome(
        new Measurement.Run(events, interval.wallNanos(), interval.cpuNanos(), interval.externalCpuNanos()), matches, detail);
  }

  /**
   * Waits until every partition of {@code topics} has no open transaction: its last stable offset
   * (what {@code read_committed} consumers see) equals its high watermark. When a job has ended, its
   * final checkpoint has committed the sinks' transactions, but the broker writes the commit
   * markers to the partitions after it acknowledges the commit, so the output becomes visible a
   * little later; the run ends when it is. Gives up after {@link #MARKER_TIMEOUT} (the output
   * check then reports what is missing).
   */
  private void awaitCommitMarkers(List<String> topics) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (String topic : topics) {
      for (int p = 0; p < PARTITIONS; p++) {
        request.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
    }
    long deadline = System.nanoTime() + MARKER_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> stable =
          admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get();
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> high =
          admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all().get();
      if (request.keySet().stream().allMatch(tp -> stable.get(tp).offset() == high.get(tp).offset())) {
        return;
      }
      Thread.sleep(10);
    }
  }

  private long committed(String topic) {
    return CommittedRecords.read(broker.bootstrapServers(), topic).size();
  }

  private void createTopics(List<String> names) throws Exception {
    List<NewTopic> topics = new ArrayList<>();
    for (String name : names) {
      topics.add(new NewTopic(name, PARTITIONS, (short) 1));
    }
    admin.createTopics(topics).all().get();
  }
}
