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
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job spec with a watched rules folder, on a real Kafka broker: the folder changes while the job
 * runs (a rule updated with {@code vigil rule update}, an invalid file dropped in, a file renamed
 * to {@code .yaml.disabled} by hand, a rule deleted with {@code vigil rule delete}) and while it
 * is stopped (renamed back). Each change yields exactly one RuleStatus (the restore from the
 * savepoint re-sends nothing: the watcher's state is checkpointed), the invalid file a rejected
 * one, and the alerts are exactly those the rule version in force produces, computed from the
 * readings sent.
 */
class RulesFolderWatchITCase {

  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();
  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();

  private static final String EVENTS = "folder-rules-events";
  private static final String ALERTS = "folder-rules-alerts";
  private static final String STATUS = "folder-rules-status";

  private Double threshold;
  private int version;
  private final List<String> expected = new ArrayList<>();

  @Test
  void folderChangesWhileTheJobRunsAndWhileItIsStoppedEachApplyOnce(@TempDir Path dir) throws Exception {
    KAFKA.broker().createTopic(EVENTS, 2);
    KAFKA.broker().createTopic(ALERTS, 2);
    KAFKA.broker().createTopic(STATUS, 1);
    Path rules = Files.createDirectory(dir.resolve("rules"));
    Files.writeString(rules.resolve("marker.yaml"), RuleTraffic.MARKER);
    Files.writeString(rules.resolve("hot.yaml"), RuleTraffic.HOT.formatted(1, "10.0"));
    Path hot2 = Files.writeString(dir.resolve("hot-2.yaml"), RuleTraffic.HOT.formatted(2, "20.0"));
    Path spec = dir.resolve("folder-rules.yaml");
    Files.writeString(
        spec,
        """
        name: folder-rules
        eventType: SensorReading
        key: deviceId
        eventTime: eventTime
        input:
          kafka: { bootstrapServers: "%1$s", topics: [%2$s] }
          watermarks: { maxOutOfOrderness: 0 s, idleTimeout: 0 s }
        rules:
          folder: rules
        outputs:
          alerts: [{ kind: kafka, topic: %3$s }]
          ruleStatus: [{ kind: kafka, topic: %4$s }]
          deadLetters: [{ kind: kafka, topic: folder-rules-dead }]
        settings:
          vigil.checkpoint.interval: 300 ms
          vigil.rules.folder-poll-interval: 200 ms
        """
            .formatted(KAFKA.bootstrapServers(), EVENTS, ALERTS, STATUS));
    CompiledSpec compiled = SpecCompiler.compile(spec);

    try (RuleTraffic traffic = new RuleTraffic(KAFKA.bootstrapServers(), EVENTS, ALERTS, STATUS)) {
      JobClient job = start(compiled, new Configuration());
      String savepoint;
      try {
        traffic.awaitStatuses(2);
        accepted(1, 10.0);
        pair(traffic, "a", 31, 45);
        traffic.phaseDone();

        RuleTraffic.Cli update = RuleTraffic.vigil("rule", "update", spec.toString(), "--file", hot2.toString());
        assertThat(update.exit()).as(update.err()).isZero();
        assertThat(update.out()).contains("UPDATE of rule 'hot' version 2: replaced " + rules.resolve("hot.yaml"));
        traffic.awaitStatuses(3);
        accepted(2, 20.0);
        pair(traffic, "b", 31, 45);
        pair(traffic, "c", 31, 60);
        traffic.phaseDone();

        Files.writeString(rules.resolve("broken.yaml"), RuleTraffic.HOT.formatted(1, "10.0").replace("id: hot", "id: broken").replace("first(warm).temperature", "first(warm).temprature"));
        traffic.awaitStatuses(4);

        Files.move(rules.resolve("hot.yaml"), rules.resolve("hot.yaml.disabled"));
        traffic.awaitStatuses(5);
        threshold = null;
        pair(traffic, "d", 31, 60);
        traffic.phaseDone();

        savepoint = job.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL).get();
      } catch (Exception | AssertionError e) {
        job.cancel();
        throw e;
      }

      // Changed while the job is down: applied once after the restore; nothing else is re-sent.
      Files.move(rules.resolve("hot.yaml.disabled"), rules.resolve("hot.yaml"));
      Configuration restore = new Configuration();
      restore.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
      job = start(compiled, restore);
      try {
        traffic.awaitStatuses(6);
        accepted(2, 20.0);
        pair(traffic, "e", 31, 60);
        traffic.phaseDone();

        RuleTraffic.Cli delete = RuleTraffic.vigil("rule", "delete", spec.toString(), "--id", "hot");
        assertThat(delete.exit()).as(delete.err()).isZero();
        assertThat(Files.exists(rules.resolve("hot.yaml"))).isFalse();
        traffic.awaitStatuses(7);
        threshold = null;
        pair(traffic, "f", 31, 60);
        traffic.phaseDone();
      } finally {
        job.cancel().get();
      }

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
              "hot ADD true ACTIVE 1",
              "marker ADD true ACTIVE 1",
              "hot UPDATE true ACTIVE 2",
              "broken ADD false UNCHANGED null",
              "hot DISABLE true DISABLED 2",
              "hot ENABLE true ACTIVE 2",
              "hot DELETE true DELETED null");
      assertThat(statuses.get(3).getError()).contains("rule 'broken' line 12").contains("temprature");
    }
  }

  private static JobClient start(CompiledSpec spec, Configuration configuration) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(configuration);
    env.setParallelism(2);
    new VigilJob(spec, Connectors.kafkaSource(spec, false), Connectors.sinks(spec)).build(env);
    return env.executeAsync(spec.name());
  }

  private void accepted(int version, double threshold) {
    this.version = version;
    this.threshold = threshold;
  }

  private void pair(RuleTraffic traffic, String device, double warm, double hotter) throws Exception {
    String first = traffic.send(device, warm);
    String second = traffic.send(device, hotter);
    if (threshold != null && warm > 30 && hotter > warm + threshold && hotter < 100) {
      expected.add(version + " " + device + " [" + first + ", " + second + "]");
    }
  }
}
