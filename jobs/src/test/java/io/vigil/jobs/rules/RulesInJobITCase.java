package io.vigil.jobs.rules;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vigil.cep.RuleLibrary;
import io.vigil.jobs.VigilJob;
import io.vigil.jobs.connectors.Connectors;
import io.vigil.jobs.demo.DemoSource;
import io.vigil.jobs.demo.SensorReadingGenerator;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.SensorReading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job spec with rules: the shipped IoT rules and the folder rule load at start (one accepted
 * status each), and the temperature-spike rule's alerts point at exactly the readings the demo
 * generator made faulty (its spikes), judged by the generator, not by the engine. And a spec's
 * anomaly scores reach its rules: the score-then-overheat rule fires for the one device the
 * generator overheats, on its hot readings, and for none of the devices whose fault spikes are
 * merely anomalous.
 */
class RulesInJobITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();

  private static final int EVENTS = 6_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void spikeAlertsPointAtTheGeneratorsFaultyReadings(@TempDir Path out) throws Exception {
    CompiledSpec spec =
        JobRunner.compile(
            """
            name: rules-in-job
            eventType: SensorReading
            key: deviceId
            eventTime: eventTime
            input:
              generator: { devices: 20, sites: 2, malformedShare: 0.0, lateShare: 0.0 }
            rules:
              library: [iot]
              folder: %1$s
            outputs:
              alerts: [{ kind: file, path: %2$s/alerts }]
              ruleStatus: [{ kind: file, path: %2$s/status }]
              deadLetters: [{ kind: file, path: %2$s/dead }]
            settings:
              vigil.checkpoint.interval: 1 s
            """
                .formatted(Path.of("specs/rules").toAbsolutePath(), out));
    runOnGenerator(spec);

    List<JsonNode> statuses = lines(out.resolve("status"));
    assertThat(statuses).extracting(s -> s.get("ruleId").asText())
        .containsExactlyInAnyOrder("iot.temperature-rising", "iot.device-silent", "iot.battery-drop", "iot.temperature-spike");
    assertThat(statuses).allSatisfy(s -> assertThat(s.get("accepted").asBoolean()).as(s.toString()).isTrue());

    SensorReadingGenerator generator = new SensorReadingGenerator(spec.generator());
    List<JsonNode> spikes = lines(out.resolve("alerts")).stream().filter(a -> a.get("ruleId").asText().equals("iot.temperature-spike")).toList();
    long faults = 0;
    for (long i = 0; i < EVENTS; i++) {
      if (generator.reading(i).getStatus() == DeviceStatus.FAULT) {
        faults++;
      }
    }
    assertThat(faults).as("the generator makes some faulty readings").isPositive();
    assertThat(spikes).as("spike alerts").isNotEmpty().hasSizeLessThanOrEqualTo((int) faults);
    for (JsonNode alert : spikes) {
      JsonNode spike = alert.get("events").get(1);
      assertThat(spike.get("stage").asText()).isEqualTo("spike");
      long index = Long.parseLong(spike.get("eventId").asText().substring("e-".length()));
      assertThat(generator.reading(index).getStatus()).as("alert %s", alert.get("alertId")).isEqualTo(DeviceStatus.FAULT);
    }
  }

  @Test
  void scoresReachTheRulesAndOnlyTheOverheatingDeviceFiresTheScoreRule(@TempDir Path out) throws Exception {
    Path rules = Files.createDirectory(out.resolve("rules"));
    Files.writeString(rules.resolve("anomaly-then-overheat.yaml"), RuleLibrary.shipped("iot/anomaly-then-overheat.yaml"));
    CompiledSpec spec =
        JobRunner.compile(
            """
            name: scores-in-rules
            eventType: SensorReading
            key: deviceId
            eventTime: eventTime
            input:
              generator: { devices: 20, sites: 2, malformedShare: 0.0, lateShare: 0.0 }
            detectors:
              - { name: temperature, fields: [temperature], detector: ewma }
            rules:
              folder: %1$s
              watch: false
            outputs:
              scores: [{ kind: file, path: %2$s/scores }]
              alerts: [{ kind: file, path: %2$s/alerts }]
              ruleStatus: [{ kind: file, path: %2$s/status }]
              deadLetters: [{ kind: file, path: %2$s/dead }]
            settings:
              vigil.checkpoint.interval: 1 s
            """
                .formatted(rules, out));
    runOnGenerator(spec);

    assertThat(lines(out.resolve("status"))).singleElement().satisfies(s -> assertThat(s.get("accepted").asBoolean()).as(s.toString()).isTrue());
    SensorReadingGenerator generator = new SensorReadingGenerator(spec.generator());
    // Independent of the detector: which readings the generator made overheat.
    Set<String> overheated = new HashSet<>();
    for (long i = 0; i < EVENTS; i++) {
      SensorReading r = generator.reading(i);
      if (r.getTemperature() > 80) {
        assertThat(SensorReadingGenerator.overheating(generator.device(i), r.getEventTime().toEpochMilli())).isPositive();
        overheated.add(r.getEventId());
      }
    }
    assertThat(overheated).as("the generator overheats a device in 50 minutes of 20 devices").isNotEmpty();
    List<JsonNode> anomalous = lines(out.resolve("scores")).stream().filter(s -> s.get("anomalous").asBoolean()).toList();
    assertThat(anomalous.stream().map(s -> s.get("key").asText()).distinct().count())
        .as("other devices' fault spikes are anomalous too: near misses for the rule").isGreaterThan(1);

    List<JsonNode> alerts = lines(out.resolve("alerts"));
    assertThat(alerts).isNotEmpty().allSatisfy(alert -> {
      assertThat(alert.get("ruleId").asText()).isEqualTo("iot.anomaly-then-overheat");
      assertThat(alert.get("key").asText()).isEqualTo("dev-0007");
      JsonNode anomaly = alert.get("events").get(0);
      JsonNode overheat = alert.get("events").get(1);
      assertThat(anomaly.get("eventType").asText()).isEqualTo("AnomalyScore");
      assertThat(overheat.get("eventType").asText()).isEqualTo("SensorReading");
      assertThat(overheated).contains(overheat.get("eventId").asText());
      // The score points at the reading it scored: the same device, before the hot one, within 5 minutes.
      SensorReading scored = generator.reading(anomaly.get("source").get("offset").asLong());
      assertThat(scored.getDeviceId()).isEqualTo("dev-0007");
      long gap = overheat.get("eventTime").asLong() - scored.getEventTime().toEpochMilli();
      assertThat(gap).isPositive().isLessThanOrEqualTo(5 * 60_000);
    });
  }

  @Test
  void anArrivalOrderRuleFindsTheSameSpikesAsTheEventTimeRuleOnOrderedInput(@TempDir Path out) throws Exception {
    // The generator's readings reach the engine in event-time order per device (one source
    // reader, no late readings), so matching in arrival order must find exactly the matches of
    // matching in event-time order; the arrival-order rule is a start-up rule, in force before the
    // first reading.
    Path rules = Files.createDirectory(out.resolve("rules"));
    String spike = Files.readString(Path.of("specs/rules/temperature-spike.yaml"));
    Files.writeString(rules.resolve("spike.yaml"), spike);
    String arrival = spike.replace("id: iot.temperature-spike", "id: spike-in-arrival-order").replace("key: deviceId\n", "key: deviceId\norder: arrival\n");
    assertThat(arrival).contains("order: arrival").contains("id: spike-in-arrival-order");
    Files.writeString(rules.resolve("spike-arrival.yaml"), arrival);
    CompiledSpec spec =
        JobRunner.compile(
            """
            name: arrival-order
            eventType: SensorReading
            key: deviceId
            eventTime: eventTime
            input:
              generator: { devices: 20, sites: 2, malformedShare: 0.0, lateShare: 0.0 }
            rules:
              folder: %1$s
              watch: false
            outputs:
              alerts: [{ kind: file, path: %2$s/alerts }]
              ruleStatus: [{ kind: file, path: %2$s/status }]
              deadLetters: [{ kind: file, path: %2$s/dead }]
            settings:
              vigil.checkpoint.interval: 1 s
            """
                .formatted(rules, out));
    runOnGenerator(spec);

    assertThat(lines(out.resolve("status"))).hasSize(2).allSatisfy(s -> assertThat(s.get("accepted").asBoolean()).as(s.toString()).isTrue());
    Map<String, List<String>> matches = new HashMap<>();
    for (JsonNode alert : lines(out.resolve("alerts"))) {
      JsonNode events = alert.get("events");
      matches.computeIfAbsent(alert.get("ruleId").asText(), k -> new ArrayList<>())
          .add(events.get(0).get("eventId").asText() + ">" + events.get(1).get("eventId").asText());
    }
    assertThat(matches.get("iot.temperature-spike")).as("event-time matches").isNotEmpty();
    assertThat(matches.get("spike-in-arrival-order")).containsExactlyInAnyOrderElementsOf(matches.get("iot.temperature-spike"));
  }

  /**
   * Runs {@code spec} at parallelism 2 on {@link #EVENTS} generated readings from one source
   * reader (so each device's readings keep their order), with the spec's own outputs.
   */
  private static void runOnGenerator(CompiledSpec spec) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    new VigilJob(spec, DemoSource.create(spec, EVENTS), Connectors.sinks(spec)).withSourceParallelism(1).build(env);
    env.execute(spec.name());
  }

  private static List<JsonNode> lines(Path dir) throws IOException {
    List<JsonNode> nodes = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).toList()) {
        for (String line : Files.readAllLines(file)) {
          nodes.add(JSON.readTree(line));
        }
      }
    }
    return nodes;
  }
}
