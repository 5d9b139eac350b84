package io.vigil.jobs.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vigil.functions.window.AggregationSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

class SpecCompilerTest {

  private static final String VALID =
      """
      name: test-job
      eventType: SensorReading
      key: deviceId
      eventTime: eventTime
      input:
        kafka:
          bootstrapServers: localhost:9092
          topics: [readings]
          properties:
            sasl.jaas.config: ${env:TEST_JAAS}
        watermarks:
          maxOutOfOrderness: 5 s
      aggregations:
        - name: device-1m
          window:
            type: tumbling
            size: 1 min
          groupBy: [deviceId]
          compute: [count, avg(temperature)]
      outputs:
        aggregates:
          - kind: kafka
            topic: out
        deadLetters:
          - kind: file
            path: /tmp/dl
      """;

  private static CompiledSpec compile(String yaml) throws SpecException {
    return SpecCompiler.compile(SpecLoader.parse("job.yaml", yaml), Map.of("TEST_JAAS", "secret-jaas")::get);
  }

  private static List<SpecError> errors(String yaml) {
    try {
      compile(yaml);
    } catch (SpecException e) {
      return e.errors();
    }
    throw new AssertionError("expected the spec to be rejected");
  }

  @Test
  void compilesAValidSpecWithDefaults() throws SpecException {
    CompiledSpec spec = compile(VALID);
    assertThat(spec.name()).isEqualTo("test-job");
    assertThat(spec.maxOutOfOrderness()).isEqualTo(Duration.ofSeconds(5));
    assertThat(spec.kafka().orElseThrow().groupId()).isEqualTo("vigil-test-job");
    assertThat(spec.aggregations()).extracting(AggregationSpec::name).containsExactly("device-1m");
    CompiledSpec.KafkaOutput out = (CompiledSpec.KafkaOutput) spec.aggregateOutputs().get(0);
    assertThat(out.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
    assertThat(out.bootstrapServers()).as("defaults to the input's").isEqualTo("localhost:9092");
    assertThat(out.transactionalIdPrefix()).isEqualTo("vigil-test-job-aggregates");
  }

  @Test
  void zeroIdleTimeoutMeansPartitionsNeverGoIdle() throws SpecException {
    CompiledSpec spec = compile(VALID.replace("maxOutOfOrderness: 5 s", "maxOutOfOrderness: 5 s\n    idleTimeout: 0 s"));
    assertThat(spec.idleTimeout()).isNull();
    assertThat(compile(VALID).idleTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void resolvesSecretsFromTheEnvironmentAndNeverPrintsThem() throws SpecException {
    CompiledSpec spec = compile(VALID);
    assertThat(spec.kafka().orElseThrow().properties()).containsEntry("sasl.jaas.config", "secret-jaas");
    assertThat(spec.kafka().orElseThrow().toString()).doesNotContain("secret-jaas").contains("******");
  }

  @Test
  void reportsAMissingSecretByNameOnly() {
    List<SpecError> errors;
    try {
      SpecCompiler.compile(SpecLoader.parse("job.yaml", VALID), Map.<String, String>of()::get);
      throw new AssertionError("expected rejection");
    } catch (SpecException e) {
      errors = e.errors();
    }
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(10);
      assertThat(e.message()).contains("TEST_JAAS");
    });
  }

  @Test
  void rejectsAnUnknownFieldNamingFileAndLine() {
    List<SpecError> errors = errors(VALID.replace("    groupBy: [deviceId]", "    groupBy: [deviceId]\n    colour: blue"));
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.file()).isEqualTo("job.yaml");
      assertThat(e.line()).isEqualTo(19);
      assertThat(e.message()).contains("unknown field 'colour'");
      assertThat(e.toString()).startsWith("job.yaml:19: aggregations[0].colour:");
    });
  }

  @Test
  void rejectsAFieldMissingFromTheSchema() {
    List<SpecError> errors = errors(VALID.replace("compute: [count, avg(temperature)]", "compute: [count, avg(pressure)]"));
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(19);
      assertThat(e.path()).isEqualTo("aggregations[0].compute[1]");
      assertThat(e.message()).contains("'pressure' is not in SensorReading");
    });
  }

  @Test
  void rejectsAGroupByFieldMissingFromTheSchema() {
    List<SpecError> errors = errors(VALID.replace("groupBy: [deviceId]", "groupBy: [building]"));
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(18);
      assertThat(e.message()).contains("'building'");
    });
  }

  @Test
  void rejectsABadDuration() {
    List<SpecError> errors = errors(VALID.replace("size: 1 min", "size: one minute"));
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(17);
      assertThat(e.path()).isEqualTo("aggregations[0].window.size");
      assertThat(e.message()).contains("'one minute' is not a duration");
    });
  }

  @Test
  void rejectsANegativeWindowSize() {
    List<SpecError> errors = errors(VALID.replace("size: 1 min", "size: -1 min"));
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(17);
      assertThat(e.message()).contains("-1 min");
    });
  }

  @Test
  void rejectsAKeyFieldOfTheWrongType() {
    List<SpecError> errors = errors(VALID.replace("key: deviceId", "key: temperature"));
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(3);
      assertThat(e.message()).contains("is double");
    });
  }

  @Test
  void rejectsAnUnknownEventTypeListingTheKnownOnes() {
    List<SpecError> errors = errors(VALID.replace("eventType: SensorReading", "eventType: Sensor"));
    assertThat(errors).first().satisfies(e -> {
      assertThat(e.line()).isEqualTo(2);
      assertThat(e.message()).contains("unknown event type 'Sensor'").contains("SensorReading");
    });
  }

  @Test
  void rejectsASlideLongerThanTheWindow() {
    List<SpecError> errors = errors(VALID.replace("type: tumbling\n      size: 1 min", "type: sliding\n      size: 1 min\n      slide: 2 min"));
    assertThat(errors).singleElement().satisfies(e -> assertThat(e.message()).contains("must not exceed size"));
  }

  @Test
  void requiresADeadLetterOutput() {
    List<SpecError> errors = errors(VALID.replace("  deadLetters:\n    - kind: file\n      path: /tmp/dl\n", ""));
    assertThat(errors).singleElement().satisfies(e -> assertThat(e.message()).contains("dead-letter output is required"));
  }

  @Test
  void rejectsAnUnknownOutputKind() {
    List<SpecError> errors = errors(VALID.replace("kind: file", "kind: s3"));
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.line()).isEqualTo(25);
      assertThat(e.message()).contains("unknown kind 's3'");
    });
  }

  @Test
  void rejectsAnUnknownVigilSettingAndABadValue() {
    List<SpecError> errors = errors(VALID + "settings:\n  vigil.colour: blue\n  vigil.max-parallelism: many\n");
    assertThat(errors).hasSize(2);
    assertThat(errors.get(0).message()).contains("unknown Vigil setting 'vigil.colour'");
    assertThat(errors.get(0).line()).isEqualTo(28);
    assertThat(errors.get(1).message()).contains("'many'");
  }

  @Test
  void collectsEveryProblemInOnePass() {
    List<SpecError> errors = errors(VALID.replace("size: 1 min", "size: soon").replace("avg(temperature)", "avg(pressure)"));
    assertThat(errors).hasSize(2);
  }

  @Test
  void shippedSpecsCompile() throws SpecException {
    for (String name : List.of("iot-telemetry.yaml", "iot-telemetry-kafka.yaml")) {
      CompiledSpec spec = SpecCompiler.compile(SpecLoader.load(Path.of("specs", name)), Map.<String, String>of()::get);
      assertThat(spec.aggregations()).hasSize(3);
    }
  }

  private static final String RULES =
      """
      rules:
        library: [%s]
        controlTopic: rules
      """;

  private static String withRules(String library, String detectors) {
    return VALID.replace("outputs:\n", detectors + RULES.formatted(library) + "outputs:\n")
        .replace("  deadLetters:\n", "  alerts:\n    - kind: console\n  scores:\n    - kind: console\n  deadLetters:\n");
  }

  @Test
  void aLibrarySetLeavesOutTheRulesTheJobCannotRunAndTakesSingleRules() throws SpecException {
    CompiledSpec plain = compile(withRules("iot", ""));
    assertThat(plain.rules().orElseThrow().initial()).extracting(c -> c.getRuleId())
        .containsExactly("iot.temperature-rising", "iot.device-silent", "iot.battery-drop");
    assertThat(plain.rules().orElseThrow().controlProperties()).containsEntry("sasl.jaas.config", "secret-jaas");
    assertThat(plain.rules().orElseThrow().toString()).doesNotContain("secret-jaas");

    String detector = "detectors:\n  - { name: t, fields: [temperature] }\n";
    CompiledSpec scored = compile(withRules("iot/anomaly-then-overheat", detector));
    assertThat(scored.rules().orElseThrow().initial()).extracting(c -> c.getRuleId()).containsExactly("iot.anomaly-then-overheat");
    assertThat(scored.ruleEventSchemas()).extracting(org.apache.avro.Schema::getName).containsExactly("SensorReading", "AnomalyScore");
  }

  @Test
  void rejectsAScoreRuleWithoutADetectorKeyedByTheKey() {
    String grouped = "detectors:\n  - { name: t, fields: [temperature], groupBy: [site] }\n";
    List<SpecError> errors = errors(withRules("iot/anomaly-then-overheat", grouped));
    assertThat(errors).singleElement().satisfies(e -> assertThat(e.toString())
        .contains("rules.library[0]: no rule of 'iot/anomaly-then-overheat' fits this job")
        .contains("not AnomalyScore; scores reach rules from the spec's detectors without groupBy"));
  }
}
