package io.vigil.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vigil.jobs.demo.SensorReadingGenerator;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.spec.SpecCompiler;
import io.vigil.jobs.spec.SpecLoader;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the fat jar the way a newcomer does ({@code java -jar target/vigil.jar run
 * specs/iot-telemetry.yaml --max-events N}) and checks the files it writes against the generator's
 * own record of what it produced: dead letters by reason exactly, every event accounted for in
 * each aggregation (counted in a window, or dead-lettered as late for it), every valid event
 * scored, and a device-silent alert for every silence in the generated readings.
 */
class VigilJarITCase {

  private static final int EVENTS = 30_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void demoRunWritesAggregatesAndDeadLettersThatAccountForEveryEvent(@TempDir Path workDir) throws Exception {
    Path jar = Path.of("target", "vigil.jar").toAbsolutePath();
    Path spec = Path.of("specs", "iot-telemetry.yaml").toAbsolutePath();
    assertThat(jar).exists();
    Process process =
        new ProcessBuilder(javaBinary(), "-jar", jar.toString(), "run", spec.toString(), "--max-events", Integer.toString(EVENTS))
            .directory(workDir.toFile())
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output).contains("events in          " + String.format("%,d", EVENTS));

    CompiledSpec compiled = SpecCompiler.compile(SpecLoader.load(spec), Map.<String, String>of()::get);
    SensorReadingGenerator generator = new SensorReadingGenerator(compiled.generator());
    Map<DeadLetterReason, Long> expectedIngest = new EnumMap<>(DeadLetterReason.class);
    long counted = 0;
    for (long i = 0; i < EVENTS; i++) {
      SensorReadingGenerator.Kind kind = generator.generate(i).kind();
      if (kind == SensorReadingGenerator.Kind.GOOD || kind == SensorReadingGenerator.Kind.LATE) {
        counted++;
      } else {
        expectedIngest.merge(reasonFor(kind), 1L, Long::sum);
      }
    }

    List<JsonNode> deadLetters = readLines(workDir.resolve("vigil-out/iot-telemetry/dead-letters"));
    Map<DeadLetterReason, Long> actualIngest = new EnumMap<>(DeadLetterReason.class);
    Map<String, Long> lateByAggregation = new HashMap<>();
    for (JsonNode d : deadLetters) {
      DeadLetterReason reason = DeadLetterReason.valueOf(d.get("reason").asText());
      if (reason == DeadLetterReason.LATE_EVENT) {
        lateByAggregation.merge(d.get("stage").asText(), 1L, Long::sum);
      } else {
        actualIngest.merge(reason, 1L, Long::sum);
        SensorReadingGenerator.Kind kind = generator.generate(d.get("source").get("offset").asLong()).kind();
        assertThat(reasonFor(kind)).as("dead letter at offset %s", d.get("source").get("offset")).isEqualTo(reason);
      }
    }
    assertThat(actualIngest).isEqualTo(expectedIngest);
    assertThat(lateByAggregation.get("device-1m")).as("late events reach the dead letters").isPositive();

    Map<String, Long> windowCounts = finalCounts(readLines(workDir.resolve("vigil-out/iot-telemetry/aggregates")));
    assertThat(windowCounts.get("device-1m") + lateByAggregation.getOrDefault("device-1m", 0L)).isEqualTo(counted);
    assertThat(windowCounts.get("device-sessions") + lateByAggregation.getOrDefault("device-sessions", 0L)).isEqualTo(counted);
    // A 5-minute window sliding by 1 minute holds every event five times.
    assertThat(windowCounts.get("site-5m-p95") + lateByAggregation.getOrDefault("site-5m-p95", 0L)).isEqualTo(5 * counted);

    // Every valid event is scored once per watched field (temperature, battery), late or not.
    List<JsonNode> scores = readLines(workDir.resolve("vigil-out/iot-telemetry/scores"));
    assertThat(scores).hasSize((int) (2 * counted));
    assertThat(scores).allSatisfy(s -> assertThat(s.get("score").asDouble()).isBetween(0.0, 1.0));
    assertThat(scores.stream().filter(s -> s.get("anomalous").asBoolean())).as("the faulty readings' spikes are flagged").isNotEmpty();

    // iot.device-silent fires after every gap of more than 10 minutes in a device's on-time
    // readings (device 3's outage), and for every device at the end of the input; its one event is
    // the reading before the silence. A late reading can reach the rules only before the
    // watermark passes it (the first seconds of the run), and then opens a silence of its own.
    Map<String, List<SensorReading>> onTime = new HashMap<>();
    for (long i = 0; i < EVENTS; i++) {
      if (generator.generate(i).kind() == SensorReadingGenerator.Kind.GOOD) {
        SensorReading r = generator.reading(i);
        onTime.computeIfAbsent(r.getDeviceId(), d -> new ArrayList<>()).add(r);
      }
    }
    Set<String> expectedSilences = new HashSet<>();
    for (List<SensorReading> readings : onTime.values()) {
      readings.sort(Comparator.comparing(SensorReading::getEventTime));
      for (int k = 0; k + 1 < readings.size(); k++) {
        if (readings.get(k + 1).getEventTime().toEpochMilli() - readings.get(k).getEventTime().toEpochMilli() > 10 * 60_000) {
          expectedSilences.add(readings.get(k).getEventId());
        }
      }
      expectedSilences.add(readings.get(readings.size() - 1).getEventId());
    }
    assertThat(onTime).hasSize(compiled.generator().devices());
    assertThat(expectedSilences).as("the end of every device's input, and any outage inside it").hasSizeGreaterThanOrEqualTo(onTime.size());
    List<JsonNode> alerts = readLines(workDir.resolve("vigil-out/iot-telemetry/alerts"));
    assertThat(alerts).extracting(a -> a.get("alertId").asText()).doesNotHaveDuplicates();
    assertThat(alerts).extracting(a -> a.get("ruleId").asText()).containsOnly("iot.device-silent");
    Set<String> silences = new HashSet<>();
    alerts.forEach(a -> silences.add(a.get("events").get(0).get("eventId").asText()));
    assertThat(silences).containsAll(expectedSilences);
    for (String extra : silences) {
      if (!expectedSilences.contains(extra)) {
        assertThat(generator.generate(Long.parseLong(extra.substring("e-".length()))).kind()).as(extra).isEqualTo(SensorReadingGenerator.Kind.LATE);
      }
    }
  }

  private static DeadLetterReason reasonFor(SensorReadingGenerator.Kind kind) {
    return switch (kind) {
      case RANDOM_BYTES, TRUNCATED_AVRO -> DeadLetterReason.UNDECODABLE;
      case UNKNOWN_FINGERPRINT -> DeadLetterReason.UNKNOWN_FINGERPRINT;
      case JSON_WRONG_TYPE -> DeadLetterReason.WRONG_TYPE;
      case JSON_MISSING_KEY -> DeadLetterReason.MISSING_KEY;
      case NAN_TEMPERATURE -> DeadLetterReason.INVALID_VALUE;
      case ANCIENT_EVENT_TIME -> DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS;
      case EMPTY -> DeadLetterReason.EMPTY_RECORD;
      case OVERSIZED -> DeadLetterReason.OVERSIZED_RECORD;
      case GOOD, LATE -> throw new IllegalArgumentException(kind + " is not a dead letter");
    };
  }

  /** Sum, per aggregation, of the event counts of each window's highest revision. */
  private static Map<String, Long> finalCounts(List<JsonNode> aggregates) {
    Map<String, JsonNode> finals = new HashMap<>();
    for (JsonNode a : aggregates) {
      String window = a.get("aggregation").asText() + "|" + a.get("groupKey") + "|" + a.get("windowStart").asLong() + "|" + a.get("windowEnd").asLong();
      finals.merge(window, a, (x, y) -> x.get("revision").asInt() >= y.get("revision").asInt() ? x : y);
    }
    Map<String, Long> counts = new HashMap<>();
    finals.values().forEach(a -> counts.merge(a.get("aggregation").asText(), a.get("count").asLong(), Long::sum));
    return counts;
  }

  private static List<JsonNode> readLines(Path dir) throws IOException {
    List<JsonNode> nodes = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).toList()) {
        for (String line : Files.readAllLines(file)) {
          nodes.add(JSON.readTree(line));
        }
      }
    }
    assertThat(nodes).as("records under %s", dir).isNotEmpty();
    return nodes;
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
