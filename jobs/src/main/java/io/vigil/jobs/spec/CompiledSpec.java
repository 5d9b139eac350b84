package io.vigil.jobs.spec;

import io.vigil.functions.anomaly.DetectorSpec;
import io.vigil.functions.ingest.DecodeSettings;
import io.vigil.functions.sink.OutputFormat;
import io.vigil.functions.window.AggregationSpec;
import io.vigil.schemas.RuleCommand;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * A validated job spec with every value parsed and every default applied: what {@link
 * io.vigil.jobs.VigilJob} and the connectors are built from.
 *
 * @param idleTimeout null when partitions are never considered idle
 * @param configuration the spec's {@code settings:} (Vigil and Flink options)
 */
public record CompiledSpec(
    String name,
    String eventTypeName,
    Schema eventSchema,
    DecodeSettings decode,
    Duration maxOutOfOrderness,
    Duration idleTimeout,
    Optional<KafkaInput> kafka,
    GeneratorSettings generator,
    List<AggregationSpec> aggregations,
    List<DetectorSpec> detectors,
    Optional<RuleSettings> rules,
    List<Output> aggregateOutputs,
    List<Output> scoreOutputs,
    List<Output> alertOutputs,
    List<Output> ruleStatusOutputs,
    List<Output> derivedOutputs,
    List<Output> deadLetterOutputs,
    Configuration configuration) {

  /**
   * The rules a job starts with, and where changes come from while it runs.
   *
   * @param initial ADD commands for the library rules and, when the folder is not watched, the
   *     folder's rules, in order
   * @param folder the rules folder (absolute), or null for none
   * @param watch whether the job watches {@code folder} while it runs (then the folder's rules
   *     come from the watcher, not from {@code initial})
   * @param controlTopic a Kafka topic of RuleCommands, or null for none
   * @param controlBootstrapServers the Kafka of the control topic (the input's)
   * @param controlProperties client properties for that Kafka (the input's, secrets resolved)
   */
  public record RuleSettings(
      List<RuleCommand> initial,
      Path folder,
      boolean watch,
      String controlTopic,
      String controlBootstrapServers,
      Map<String, String> controlProperties) {

    /** Whether the job runs a folder watcher. */
    public boolean watchesFolder() {
      return folder != null && watch;
    }

    RuleSettings withBootstrapServers(String bootstrapServers) {
      return new RuleSettings(initial, folder, watch, controlTopic, bootstrapServers, controlProperties);
    }

    @Override
    public String toString() {
      return "RuleSettings[initial=" + initial.size() + " rules, folder=" + folder + ", watch=" + watch
          + ", controlTopic=" + controlTopic + ", controlBootstrapServers=" + controlBootstrapServers
          + ", controlProperties=" + Secrets.redact(controlProperties) + "]";
    }
  }

  /**
   * The detectors whose scores the rule engine receives: those keyed by the spec's key (no {@code
   * groupBy}), because an {@code AnomalyScore}'s {@code key} is then the entity key rules are
   * keyed by. Scores of group-by detectors carry an encoded group key (even for {@code groupBy:
   * [deviceId]}) and stay out of rules.
   */
  public List<DetectorSpec> ruleDetectors() {
    return detectors.stream().filter(d -> d.groupBy().isEmpty()).toList();
  }

  /**
   * The event types the rule engine of this job reads: the spec's event type, and {@code
   * AnomalyScore} when a detector's scores reach the rules ({@link #ruleDetectors}).
   */
  public List<Schema> ruleEventSchemas() {
    return ruleDetectors().isEmpty()
        ? List.of(eventSchema)
        : List.of(eventSchema, io.vigil.schemas.AnomalyScore.getClassSchema());
  }

  /**
   * This spec with every Kafka address (input and outputs) replaced by {@code bootstrapServers}:
   * how the one-command demo points a spec at the broker it starts itself.
   */
  public CompiledSpec withKafkaBootstrapServers(String bootstrapServers) {
    return new CompiledSpec(
        name,
        eventTypeName,
        eventSchema,
        decode,
        maxOutOfOrderness,
        idleTimeout,
        kafka.map(k -> new KafkaInput(bootstrapServers, k.topics(), k.groupId(), k.startFrom(), k.startTimestamp(), k.properties())),
        generator,
        aggregations,
        detectors,
        rules.map(r -> r.withBootstrapServers(bootstrapServers)),
        withBootstrap(aggregateOutputs, bootstrapServers),
        withBootstrap(scoreOutputs, bootstrapServers),
        withBootstrap(alertOutputs, bootstrapServers),
        withBootstrap(ruleStatusOutputs, bootstrapServers),
        withBootstrap(derivedOutputs, bootstrapServers),
        withBootstrap(deadLetterOutputs, bootstrapServers),
        configuration);
  }

  /** This spec with the demo generator paced at {@code eventsPerSecond} (0: as fast as possible). */
  public CompiledSpec withGeneratorRate(long eventsPerSecond) {
    GeneratorSettings g = generator;
    return new CompiledSpec(
        name,
        eventTypeName,
        eventSchema,
        decode,
        maxOutOfOrderness,
        idleTimeout,
        kafka,
        new GeneratorSettings(g.devices(), g.sites(), g.malformedShare(), g.lateShare(), eventsPerSecond, g.seed(), g.startTime()),
        aggregations,
        detectors,
        rules,
        aggregateOutputs,
        scoreOutputs,
        alertOutputs,
        ruleStatusOutputs,
        derivedOutputs,
        deadLetterOutputs,
        configuration);
  }

  private static List<Output> withBootstrap(List<Output> outputs, String bootstrapServers) {
    return outputs.stream()
        .map(o -> o instanceof KafkaOutput k
            ? new KafkaOutput(k.topic(), bootstrapServers, k.deliveryGuarantee(), k.transactionalIdPrefix(), k.transactionTimeout(), k.format(), k.properties())
            : o)
        .toList();
  }

  /** Where a Kafka input starts when the job has no checkpoint or savepoint to resume from. */
  public enum StartFrom {
    EARLIEST,
    LATEST,
    COMMITTED,
    TIMESTAMP
  }

  /**
   * @param startTimestamp epoch millis, only for {@link StartFrom#TIMESTAMP}
   * @param properties extra consumer properties, secrets already resolved from the environment
   */
  public record KafkaInput(
      String bootstrapServers,
      List<String> topics,
      String groupId,
      StartFrom startFrom,
      long startTimestamp,
      Map<String, String> properties) {

    @Override
    public String toString() {
      return "KafkaInput[bootstrapServers=" + bootstrapServers + ", topics=" + topics
          + ", groupId=" + groupId + ", startFrom=" + startFrom
          + ", properties=" + Secrets.redact(properties) + "]";
    }
  }

  /** The demo generator's settings; see {@link io.vigil.jobs.demo.SensorReadingGenerator}. */
  public record GeneratorSettings(
      int devices,
      int sites,
      double malformedShare,
      double lateShare,
      long eventsPerSecond,
      long seed,
      Instant startTime)
      implements Serializable {}

  /** One compiled output. */
  public sealed interface Output permits KafkaOutput, FileOutput, ConsoleOutput {}

  public record KafkaOutput(
      String topic,
      String bootstrapServers,
      DeliveryGuarantee deliveryGuarantee,
      String transactionalIdPrefix,
      Duration transactionTimeout,
      OutputFormat format,
      Map<String, String> properties)
      implements Output {

    @Override
    public String toString() {
      return "KafkaOutput[topic=" + topic + ", bootstrapServers=" + bootstrapServers
          + ", deliveryGuarantee=" + deliveryGuarantee + ", transactionalIdPrefix="
          + transactionalIdPrefix + ", transactionTimeout=" + transactionTimeout + ", format="
          + format + ", properties=" + Secrets.redact(properties) + "]";
    }
  }

  public record FileOutput(Path path) implements Output {}

  public record ConsoleOutput() implements Output {}
}
