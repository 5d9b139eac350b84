package io.vigil.jobs.connectors;

import io.vigil.functions.ingest.EnvelopeDeserializationSchema;
import io.vigil.functions.sink.AvroKafkaSerializer;
import io.vigil.functions.sink.ConsoleJsonSink;
import io.vigil.functions.sink.JsonLinesEncoder;
import io.vigil.jobs.JobSinks;
import io.vigil.jobs.NamedSink;
import io.vigil.jobs.options.VigilOptions;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.spec.Secrets;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.RuleStatus;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.WindowAggregate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The production connectors a spec names: the Kafka source and the Kafka, file and console sinks.
 * Tests build {@link io.vigil.jobs.VigilJob} with their own sources and sinks instead.
 */
public final class Connectors {

  private Connectors() {}

  /**
   * The Kafka source of envelopes for {@code spec}.
   *
   * @param bounded stop at the offsets that are latest when the job starts (for demos and tests)
   */
  public static KafkaSource<GenericRecord> kafkaSource(CompiledSpec spec, boolean bounded) {
    CompiledSpec.KafkaInput in = spec.kafka().orElseThrow(() -> new IllegalArgumentException("spec '" + spec.name() + "' has no Kafka input"));
    Properties props = new Properties();
    props.putAll(in.properties());
    KafkaSourceBuilder<GenericRecord> builder =
        KafkaSource.<GenericRecord>builder()
            .setBootstrapServers(in.bootstrapServers())
            .setTopics(in.topics())
            .setGroupId(in.groupId())
            .setProperties(props)
            .setStartingOffsets(startingOffsets(in))
            .setDeserializer(new EnvelopeDeserializationSchema(spec.decode()));
    if (bounded) {
      builder.setBounded(OffsetsInitializer.latest());
    }
    return builder.build();
  }

  private static OffsetsInitializer startingOffsets(CompiledSpec.KafkaInput in) {
    return switch (in.startFrom()) {
      case EARLIEST -> OffsetsInitializer.earliest();
      case LATEST -> OffsetsInitializer.latest();
      case COMMITTED -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
      case TIMESTAMP -> OffsetsInitializer.timestamp(in.startTimestamp());
    };
  }

  /** The sinks of every output the spec names. */
  public static JobSinks sinks(CompiledSpec spec) {
    return new JobSinks(
        sinks(spec.aggregateOutputs(), "aggregate", Connectors::aggregateKey),
        sinks(spec.scoreOutputs(), "score", Connectors::scoreKey),
        sinks(spec.alertOutputs(), "alert", Alert::getKey),
        sinks(spec.ruleStatusOutputs(), "rule-status", RuleStatus::getRuleId),
        sinks(spec.derivedOutputs(), "derived", d -> d.getOutput() + "/" + d.getKey()),
        sinks(spec.deadLetterOutputs(), "dead-letter", Connectors::deadLetterKey));
  }

  /**
   * The control topic's rule commands, read from the earliest offset so that a restart without a
   * checkpoint replays every change; with a checkpoint, the rule set in state and the saved
   * offsets make the replay exact. The client uses the input's Kafka properties (security).
   * {@code bounded}: read up to the offsets that are latest at start, then end (a bounded run).
   */
  public static KafkaSource<RuleCommand> ruleCommandSource(CompiledSpec.RuleSettings rules, String jobName, boolean bounded) {
    Properties props = new Properties();
    props.putAll(rules.controlProperties());
    KafkaSourceBuilder<RuleCommand> builder =
        KafkaSource.<RuleCommand>builder()
            .setBootstrapServers(rules.controlBootstrapServers())
            .setTopics(rules.controlTopic())
            .setGroupId("vigil-" + jobName + "-rules")
            .setProperties(props)
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setDeserializer(new RuleCommandDeserializer());
    if (bounded) {
      builder.setBounded(OffsetsInitializer.latest());
    }
    return builder.build();
  }

  private static <T extends SpecificRecordBase> List<NamedSink<T>> sinks(
      List<CompiledSpec.Output> outputs, String label, SerializableFunction<T, String> keyOf) {
    List<NamedSink<T>> sinks = new ArrayList<>();
    for (CompiledSpec.Output out : outputs) {
      sinks.add(sink(out, label, keyOf));
    }
    return sinks;
  }

  /** All records of one aggregation group share a Kafka key, so their revisions stay in order. */
  static String aggregateKey(WindowAggregate a) {
    return a.getAggregation() + "/" + new TreeMap<>(a.getGroupKey());
  }

  /** Scores of one key and field stay in order. */
  static String scoreKey(AnomalyScore s) {
    return s.getKey() + "/" + s.getField();
  }

  /** Dead letters keep the order of their source partition. */
  static String deadLetterKey(DeadLetter d) {
    return d.getSource().getTopic() + "/" + d.getSource().getPartition();
  }

  private static <T extends SpecificRecordBase> NamedSink<T> sink(
      CompiledSpec.Output out, String label, SerializableFunction<T, String> keyOf) {
    if (out instanceof CompiledSpec.KafkaOutput k) {
      return new NamedSink<>("kafka/" + k.topic(), "Kafka " + k.topic(), kafkaSink(k, keyOf));
    }
    if (out instanceof CompiledSpec.FileOutput f) {
      return new NamedSink<>("file/" + f.path(), "files " + f.path(), fileSink(f, ROLL_ON_CHECKPOINT.contains(label)));
    }
    return new NamedSink<>("console", "console", new ConsoleJsonSink<>(label));
  }

  static <T extends SpecificRecordBase> KafkaSink<T> kafkaSink(
      CompiledSpec.KafkaOutput out, SerializableFunction<T, String> keyOf) {
    Properties props = new Properties();
    props.putAll(out.properties());
    props.setProperty("transaction.timeout.ms", Long.toString(out.transactionTimeout().toMillis()));
    return KafkaSink.<T>builder()
        .setBootstrapServers(out.bootstrapServers())
        .setKafkaProducerConfig(props)
        .setDeliveryGuarantee(out.deliveryGuarantee())
        .setTransactionalIdPrefix(out.transactionalIdPrefix())
        .setRecordSerializer(new AvroKafkaSerializer<>(out.topic(), out.format(), keyOf))
        .build();
  }

  /**
   * Outputs whose files roll on every checkpoint: few records, wanted soon (an alert, the status
   * of a rule change). The others roll by Flink's default policy (a minute, or 128 MB), so a
   * long run does not leave a file per checkpoint.
   */
  private static final Set<String> ROLL_ON_CHECKPOINT = Set.of("alert", "rule-status", "derived");

  /**
   * JSON lines under {@code out}'s path; a part file becomes visible (loses its leading dot) when
   * the checkpoint after it rolls completes.
   */
  static <T extends SpecificRecordBase> Sink<T> fileSink(CompiledSpec.FileOutput out, boolean rollOnCheckpoint) {
    FileSink.DefaultRowFormatBuilder<T> builder =
        FileSink.forRowFormat(new Path(out.path().toAbsolutePath().toUri()), new JsonLinesEncoder<T>())
            .withBucketAssigner(new BasePathBucketAssigner<>())
            .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("part").withPartSuffix(".jsonl").build());
    if (rollOnCheckpoint) {
      builder = builder.withRollingPolicy(OnCheckpointRollingPolicy.build());
    }
    return builder.build();
  }

  /**
   * Refuses to start when an exactly-once Kafka output's transaction timeout exceeds its broker's
   * {@code transaction.max.timeout.ms}: the producer would be rejected at the first transaction,
   * deep inside the running job.
   */
  public static void verifyTransactionTimeouts(CompiledSpec spec) {
    if (!spec.configuration().get(VigilOptions.KAFKA_VERIFY_TRANSACTION_TIMEOUT)) {
      return;
    }
    List<CompiledSpec.Output> all = new ArrayList<>(spec.aggregateOutputs());
    all.addAll(spec.scoreOutputs());
    all.addAll(spec.alertOutputs());
    all.addAll(spec.ruleStatusOutputs());
    all.addAll(spec.derivedOutputs());
    all.addAll(spec.deadLetterOutputs());
    for (CompiledSpec.Output out : all) {
      if (out instanceof CompiledSpec.KafkaOutput k && k.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE) {
        long brokerMax = brokerTransactionMaxTimeoutMs(k.bootstrapServers(), k.properties());
        if (k.transactionTimeout().toMillis() > brokerMax) {
          throw new IllegalArgumentException(
              "output topic '" + k.topic() + "': transactionTimeout " + k.transactionTimeout()
                  + " exceeds the broker's transaction.max.timeout.ms of "
                  + Duration.ofMillis(brokerMax) + "; lower transactionTimeout (or "
                  + VigilOptions.KAFKA_TRANSACTION_TIMEOUT.key() + ") or raise the broker limit");
        }
      }
    }
  }

  private static long brokerTransactionMaxTimeoutMs(String bootstrap, Map<String, String> properties) {
    Properties props = new Properties();
    props.putAll(properties);
    props.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
    props.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
    try (Admin admin = Admin.create(props)) {
      String brokerId = admin.describeCluster().nodes().get(15, TimeUnit.SECONDS).iterator().next().idString();
      ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, brokerId);
      Config config = admin.describeConfigs(List.of(broker)).all().get(15, TimeUnit.SECONDS).get(broker);
      ConfigEntry entry = config.get("transaction.max.timeout.ms");
      return Long.parseLong(entry.value());
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "cannot reach Kafka at " + bootstrap + " to check transaction.max.timeout.ms (properties "
              + Secrets.redact(properties) + "): " + e.getClass().getSimpleName(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking Kafka at " + bootstrap, e);
    }
  }
}
