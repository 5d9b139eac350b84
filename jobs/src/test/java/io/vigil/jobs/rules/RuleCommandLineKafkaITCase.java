package io.vigil.jobs.rules;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.jobs.VigilJob;
import io.vigil.jobs.connectors.Connectors;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.spec.SpecCompiler;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.schemas.Alert;
import io.vigil.schemas.MatchedEvent;
import io.vigil.schemas.RuleStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job spec with a rules control topic runs on a real Kafka broker, and its rules are changed
 * with the {@code vigil rule} command line (the same command class a user runs): add, an invalid
 * update (nothing sent), update, an update that is not newer (rejected by the job), disable,
 * enable, delete. After each change, readings follow; the committed alerts are exactly those the
 * rule version in force produces, computed here from the readings sent, and each command yields
 * its expected RuleStatus.
 */
class RuleCommandLineKafkaITCase {

  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();
  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();

  private static final String EVENTS = "cli-rules-events";
  private static final String COMMANDS = "cli-rules-commands";
  private static final String ALERTS = "cli-rules-alerts";
  private static final String STATUS = "cli-rules-status";

  /** The "hot" rule's threshold in force, by the commands this test had accepted; null when none. */
  private Double threshold;
  private int version;
  private final List<String> expected = new ArrayList<>();

  @Test
  void ruleCommandsFromTheCommandLineChangeTheAlertsOfTheRunningSpec(@TempDir Path dir) throws Exception {
    for (String topic : List.of(EVENTS, ALERTS)) {
      KAFKA.broker().createTopic(topic, 2);
    }
    KAFKA.broker().createTopic(COMMANDS, 1);
    KAFKA.broker().createTopic(STATUS, 1);
    Path spec = dir.resolve("cli-rules.yaml");
    Files.writeString(
        spec,
        """
        name: cli-rules
        eventType: SensorReading
        key: deviceId
        eventTime: eventTime
        input:
          kafka: { bootstrapServers: "%1$s", topics: [%2$s] }
          watermarks: { maxOutOfOrderness: 0 s, idleTimeout: 0 s }
        rules:
          controlTopic: %3$s
        outputs:
          alerts: [{ kind: kafka, topic: %4$s }]
          ruleStatus: [{ kind: kafka, topic: %5$s }]
          deadLetters: [{ kind: kafka, topic: cli-rules-dead }]
        settings:
          vigil.checkpoint.interval: 300 ms
        """
            .formatted(KAFKA.bootstrapServers(), EVENTS, COMMANDS, ALERTS, STATUS));
    Path marker = write(dir, "marker.yaml", RuleTraffic.MARKER);
    Path hot1 = write(dir, "hot-1.yaml", RuleTraffic.HOT.formatted(1, "10.0"));
    Path hot2 = write(dir, "hot-2.yaml", RuleTraffic.HOT.formatted(2, "20.0"));
    Path typo = write(dir, "hot-typo.yaml", RuleTraffic.HOT.formatted(3, "10.0").replace("first(warm).temperature", "first(warm).temprature"));

    CompiledSpec compiled = SpecCompiler.compile(spec);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    new VigilJob(compiled, Connectors.kafkaSource(compiled, false), Connectors.sinks(compiled)).build(env);
    JobClient job = env.executeAsync(compiled.name());
    try (RuleTraffic traffic = new RuleTraffic(KAFKA.bootstrapServers(), EVENTS, ALERTS, STATUS)) {
      rule(traffic, "add", spec, "--file", marker.toString());
      traffic.awaitStatuses(1);
      RuleTraffic.Cli added = rule(traffic, "add", spec, "--file", hot1.toString());
      assertThat(added.out()).contains("Sent ADD of rule 'hot' version 1 to topic '" + COMMANDS + "'");
      traffic.awaitStatuses(2);
      accepted(1, 10.0);
      pair(traffic, "a", 31, 45);
      pair(traffic, "b", 31, 38);
      traffic.phaseDone();

      // Invalid: reported with the rule, the line and the problem; nothing reaches the topic.
      long before = endOffset(COMMANDS);
      RuleTraffic.Cli invalid = RuleTraffic.vigil("rule", "update", spec.toString(), "--file", typo.toString());
      assertThat(invalid.exit()).isEqualTo(1);
      assertThat(invalid.err()).contains("hot-typo.yaml: rule 'hot' line 12: hotter.where:").contains("temprature").contains("nothing sent");
      assertThat(endOffset(COMMANDS)).isEqualTo(before);

      rule(traffic, "update", spec, "--file", hot2.toString());
      traffic.awaitStatuses(3);
      accepted(2, 20.0);
      pair(traffic, "c", 31, 45);
      pair(traffic, "d", 31, 60);
      traffic.phaseDone();

      // Valid on its own, but not newer than the version in force: the job rejects it.
      rule(traffic, "update", spec, "--file", hot2.toString());
      traffic.awaitStatuses(4);
      pair(traffic, "e", 31, 60);
      traffic.phaseDone();

      rule(traffic, "disable", spec, "--id", "hot");
      traffic.awaitStatuses(5);
      threshold = null;
      pair(traffic, "f", 31, 60);
      traffic.phaseDone();

      rule(traffic, "enable", spec, "--id", "hot");
      traffic.awaitStatuses(6);
      accepted(2, 20.0);
      pair(traffic, "g", 31, 60);
      traffic.phaseDone();

      rule(traffic, "delete", spec, "--file", hot2.toString());
      traffic.awaitStatuses(7);
      threshold = null;
      pair(traffic, "h", 31, 60);
      traffic.phaseDone();

      List<Alert> alerts = traffic.alerts();
      assertThat(alerts).extracting(Alert::getAlertId).as("each alert once").doesNotHaveDuplicates();
      assertThat(alerts.stream().filter(a -> a.getRuleId().equals("hot"))
              .map(a -> a.getRuleVersion() + " " + a.getKey() + " " + a.getEvents().stream().map(MatchedEvent::getEventId).toList()))
          .containsExactlyInAnyOrderElementsOf(expected)
          .isNotEmpty();
      assertThat(alerts).filteredOn(a -> a.getRuleId().equals("marker")).hasSize(traffic.markers());

      List<RuleStatus> statuses = traffic.statuses();
      assertThat(statuses)
          .extracting(s -> s.getRuleId() + " " + s.getAction() + " " + s.getAccepted() + " " + s.getState() + " " + s.getActiveVersion())
          .containsExactly(
              "marker ADD true ACTIVE 1",
              "hot ADD true ACTIVE 1",
              "hot UPDATE true ACTIVE 2",
              "hot UPDATE false UNCHANGED null",
              "hot DISABLE true DISABLED 2",
              "hot ENABLE true ACTIVE 2",
              "hot DELETE true DELETED null");
      assertThat(statuses.get(3).getError()).contains("version 2 is not newer than version 2");
    } finally {
      job.cancel().get();
    }
  }

  private static RuleTraffic.Cli rule(RuleTraffic traffic, String action, Path spec, String... args) {
    List<String> all = new ArrayList<>(List.of("rule", action, spec.toString()));
    all.addAll(List.of(args));
    RuleTraffic.Cli cli = RuleTraffic.vigil(all.toArray(String[]::new));
    assertThat(cli.exit()).as(cli.err()).isZero();
    return cli;
  }

  private void accepted(int version, double threshold) {
    this.version = version;
    this.threshold = threshold;
  }

  /** Sends a warm and a hotter reading; expects an alert when the rule in force says so. */
  private void pair(RuleTraffic traffic, String device, double warm, double hotter) throws Exception {
    String first = traffic.send(device, warm);
    String second = traffic.send(device, hotter);
    if (threshold != null && warm > 30 && hotter > warm + threshold && hotter < 100) {
      expected.add(version + " " + device + " [" + first + ", " + second + "]");
    }
  }

  private static Path write(Path dir, String name, String text) throws Exception {
    return Files.writeString(dir.resolve(name), text);
  }

  private static long endOffset(String topic) {
    java.util.Properties props = new java.util.Properties();
    props.put("bootstrap.servers", KAFKA.bootstrapServers());
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition p = new TopicPartition(topic, 0);
      return consumer.endOffsets(List.of(p)).get(p);
    }
  }
}
