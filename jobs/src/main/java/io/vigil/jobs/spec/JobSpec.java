package io.vigil.jobs.spec;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import java.util.Map;

/**
 * A job spec as written in YAML: the raw, unvalidated shape. {@link SpecLoader} reads it (unknown
 * fields are errors) and {@link SpecCompiler} checks it against the event schema and turns it into
 * a {@link CompiledSpec}. The field reference is in README.md ("Job specs").
 */
public record JobSpec(
    String name,
    String description,
    String eventType,
    String key,
    String eventTime,
    Input input,
    List<Aggregation> aggregations,
    List<Detector> detectors,
    Rules rules,
    Outputs outputs,
    Map<String, String> settings) {

  /** Where events come from and how they are read. With no {@code kafka} section, the demo generator is used. */
  public record Input(
      Kafka kafka,
      Generator generator,
      String format,
      Watermarks watermarks,
      Validation validation) {}

  /** A Kafka input. {@code startFrom}: earliest, latest, committed, or an ISO-8601 instant. */
  public record Kafka(
      String bootstrapServers,
      List<String> topics,
      String groupId,
      String startFrom,
      Map<String, String> properties) {}

  /** The built-in demo generator of sensor readings. */
  public record Generator(
      Integer devices,
      Integer sites,
      Double malformedShare,
      Double lateShare,
      Long eventsPerSecond,
      Long seed,
      String startTime) {}

  public record Watermarks(String maxOutOfOrderness, String idleTimeout) {}

  public record Validation(
      String maxRecordSize,
      String eventTimeNotBefore,
      String eventTimeNotAfter,
      Boolean rejectNonFiniteNumbers) {}

  public record Aggregation(
      String name, Window window, List<String> groupBy, String allowedLateness, List<String> compute) {}

  /**
   * Online anomaly scoring of numeric fields, per key. {@code detector}: a name from
   * io.vigil.functions.anomaly.Detectors (default: its DEFAULT); {@code groupBy}: the key fields
   * (default: the spec's key); {@code idleTimeout}: a key silent this long loses its model.
   */
  public record Detector(
      String name, List<String> fields, String detector, Double threshold, List<String> groupBy, String idleTimeout) {}

  /**
   * Complex-event rules (see cep-patterns/README.md). {@code library}: shipped rule sets (iot,
   * payments, orders, activity); {@code folder}: a folder of rule YAML files, read at start and,
   * with {@code watch} (default true), watched while the job runs; {@code controlTopic}: a Kafka
   * topic of RuleCommands for changes while the job runs.
   */
  public record Rules(List<String> library, String folder, Boolean watch, String controlTopic) {}

  /** {@code type}: tumbling (size), sliding (size, slide) or session (gap). */
  public record Window(String type, String size, String slide, String gap) {}

  public record Outputs(
      List<Output> aggregates,
      List<Output> scores,
      List<Output> alerts,
      List<Output> ruleStatus,
      List<Output> derived,
      List<Output> deadLetters) {}

  /** One output, by {@code kind}. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = KafkaOutput.class, name = "kafka"),
    @JsonSubTypes.Type(value = FileOutput.class, name = "file"),
    @JsonSubTypes.Type(value = ConsoleOutput.class, name = "console")
  })
  public sealed interface Output permits KafkaOutput, FileOutput, ConsoleOutput {}

  /**
   * A Kafka topic. {@code deliveryGuarantee}: exactly-once (default), at-least-once or none;
   * {@code format}: avro (single-object encoding, default) or json.
   */
  public record KafkaOutput(
      String topic,
      String bootstrapServers,
      String deliveryGuarantee,
      String transactionalIdPrefix,
      String transactionTimeout,
      String format,
      Map<String, String> properties)
      implements Output {}

  /** JSON-lines files under a directory. */
  public record FileOutput(String path) implements Output {}

  /** Standard output, one JSON line per record. */
  public record ConsoleOutput() implements Output {}
}
