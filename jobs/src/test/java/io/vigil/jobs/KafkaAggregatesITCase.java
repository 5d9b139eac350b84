package io.vigil.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.jobs.testing.TestReadings;
import io.vigil.jobs.testing.WindowOracle;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.WindowAggregate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka in, Kafka out: 50,000 readings over 200 devices in a 4-partition topic, with bounded
 * disorder and some events far too late; the job runs at parallelism 2; every aggregate read back
 * with read_committed equals what {@link WindowOracle} computes from the same input list.
 */
class KafkaAggregatesITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();
  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

  private static final String SPEC =
      """
      name: kafka-aggregates
      eventType: SensorReading
      key: deviceId
      eventTime: eventTime
      input:
        kafka:
          bootstrapServers: %s
          topics: [readings]
          groupId: kafka-aggregates-test
        watermarks: { maxOutOfOrderness: 5 s }
      aggregations:
        - name: device-1m
          window: { type: tumbling, size: 1 min }
          groupBy: [deviceId]
          allowedLateness: 30 s
          compute: [count, sum(temperature), min(temperature), max(temperature), avg(temperature), stddev(temperature)]
        - name: site-5m
          window: { type: sliding, size: 5 min, slide: 1 min }
          groupBy: [site]
          compute: [count, p95(temperature), p50(temperature), distinct(deviceId)]
        - name: site-status-2m
          window: { type: tumbling, size: 2 min }
          groupBy: [site, status]
          compute: [count, max(temperature)]
        - name: device-sessions
          window: { type: session, gap: 5 min }
          groupBy: [deviceId]
          compute: [count, avg(temperature)]
      outputs:
        aggregates: [{ kind: kafka, topic: aggregates }]
        deadLetters: [{ kind: kafka, topic: dead-letters }]
      settings:
        vigil.checkpoint.interval: 1 s
        vigil.checkpoint.dir: %s
      """;

  @Test
  void everyAggregateEqualsAnIndependentRecomputation(@TempDir Path checkpoints) throws Exception {
    KAFKA.broker().createTopic("readings", 4);
    KAFKA.broker().createTopic("aggregates", 2);
    KAFKA.broker().createTopic("dead-letters", 2);
    List<TestReadings.Sent> sent =
        TestReadings.send(KAFKA.bootstrapServers(), "readings", TestReadings.generate(50_000, 200, 10, 50, 2_000, 0.004, 7));
    CompiledSpec spec = JobRunner.compile(SPEC.formatted(KAFKA.bootstrapServers(), checkpoints.toUri()));

    JobRunner.runBounded(spec, List.of());

    List<WindowAggregate> aggregates = JobRunner.aggregates(KAFKA.bootstrapServers(), "aggregates");
    List<DeadLetter> deadLetters = JobRunner.deadLetters(KAFKA.bootstrapServers(), "dead-letters");

    assertThat(deadLetters).allSatisfy(d -> assertThat(d.getReason()).isEqualTo(DeadLetterReason.LATE_EVENT));
    Map<String, TestReadings.Sent> byOffset = new HashMap<>();
    sent.forEach(s -> byOffset.put(s.partition() + "@" + s.offset(), s));
    // Only events generated late may be dead-lettered as late; the on-time ones are within the watermark bound.
    assertThat(deadLetters)
        .allSatisfy(d -> assertThat(byOffset.get(d.getSource().getPartition() + "@" + d.getSource().getOffset()).late()).isTrue());
    assertThat(deadLetters).as("late events beyond allowed lateness are dead-lettered").isNotEmpty();

    Map<String, WindowAggregate> finals = finalRevisions(aggregates);
    Set<String> excluded = new HashSet<>();
    deadLetters.forEach(d -> excluded.add(exclusionKey(d.getStage(), d.getSource().getPartition(), d.getSource().getOffset(), d.getWindowStart())));

    Function<TestReadings.Sent, String> device = s -> s.reading().getDeviceId();
    Function<TestReadings.Sent, String> site = s -> s.reading().getSite();
    Function<TestReadings.Sent, String> siteStatus = s -> s.reading().getSite() + "/" + s.reading().getStatus();

    Map<String, WindowOracle.Window> device1m = expectedSliding(sent, excluded, "device-1m", device, 60_000, 60_000);
    assertMatches(finals, "device-1m", device1m, (w, a) -> {
      assertClose(a.getValues().get("sum_temperature"), w.sum());
      assertClose(a.getValues().get("min_temperature"), w.min());
      assertClose(a.getValues().get("max_temperature"), w.max());
      assertClose(a.getValues().get("avg_temperature"), w.avg());
      assertClose(a.getValues().get("stddev_temperature"), w.stddev());
    });

    Map<String, WindowOracle.Window> site5m = expectedSliding(sent, excluded, "site-5m", site, 300_000, 60_000);
    assertMatches(finals, "site-5m", site5m, (w, a) -> {
      double epsilon = io.vigil.functions.window.MetricSpec.QUANTILE_RANK_ERROR;
      assertThat(WindowOracle.withinRankError(w.sortedValues(), 0.95, a.getValues().get("p95_temperature"), epsilon)).isTrue();
      assertThat(WindowOracle.withinRankError(w.sortedValues(), 0.5, a.getValues().get("p50_temperature"), epsilon)).isTrue();
      // Under 30 distinct devices per site: HLL is in its exact (list) mode here.
      assertThat(a.getValues().get("distinct_deviceId")).isCloseTo((double) w.distinctTags(), org.assertj.core.data.Offset.offset(0.5));
    });

    Map<String, WindowOracle.Window> siteStatus2m = expectedSliding(sent, excluded, "site-status-2m", siteStatus, 120_000, 120_000);
    assertMatches(finals, "site-status-2m", siteStatus2m, (w, a) -> assertClose(a.getValues().get("max_temperature"), w.max()));

    List<WindowOracle.Event> sessionEvents = new ArrayList<>();
    for (TestReadings.Sent s : sent) {
      if (!excluded.contains(exclusionKey("device-sessions", s.partition(), s.offset(), null))) {
        sessionEvents.add(s.event(device.apply(s)));
      }
    }
    Map<String, WindowOracle.Window> sessions = WindowOracle.sessions(sessionEvents, 300_000);
    assertThat(sessions).as("the pausing devices' sessions split in two").hasSize(200 + TestReadings.PAUSING_DEVICES);
    assertMatches(finals, "device-sessions", sessions, (w, a) -> assertClose(a.getValues().get("avg_temperature"), w.avg()));
  }

  private static String exclusionKey(String aggregation, int partition, long offset, Long windowStart) {
    return aggregation + "|" + partition + "@" + offset + (aggregation.equals("device-sessions") ? "" : "|" + windowStart);
  }

  private static Map<String, WindowOracle.Window> expectedSliding(
      List<TestReadings.Sent> sent, Set<String> excluded, String aggregation, Function<TestReadings.Sent, String> group, long size, long slide) {
    Map<String, WindowOracle.Window> all = new TreeMap<>();
    List<WindowOracle.Event> events = sent.stream().map(s -> s.event(group.apply(s))).toList();
    Map<String, TestReadings.Sent> byId = sent.stream().collect(Collectors.toMap(s -> s.reading().getEventId(), s -> s));
    WindowOracle.sliding(events, size, slide).forEach((id, w) -> {
      List<WindowOracle.Event> kept = w.events().stream()
          .filter(e -> {
            TestReadings.Sent s = byId.get(e.id());
            return !excluded.contains(exclusionKey(aggregation, s.partition(), s.offset(), w.start()));
          })
          .toList();
      if (!kept.isEmpty()) {
        all.put(id, new WindowOracle.Window(w.group(), w.start(), w.end(), kept));
      }
    });
    return all;
  }

  /** The highest revision of each window, after checking no (window, revision) was emitted twice. */
  private static Map<String, WindowAggregate> finalRevisions(List<WindowAggregate> aggregates) {
    Set<String> seen = new HashSet<>();
    Map<String, WindowAggregate> finals = new HashMap<>();
    for (WindowAggregate a : aggregates) {
      String window = a.getAggregation() + "#" + WindowOracle.id(group(a), a.getWindowStart(), a.getWindowEnd());
      assertThat(seen.add(window + "#" + a.getRevision())).as("duplicate %s", a).isTrue();
      finals.merge(window, a, (x, y) -> x.getRevision() >= y.getRevision() ? x : y);
    }
    return finals;
  }

  private static String group(WindowAggregate a) {
    Map<String, String> key = a.getGroupKey();
    if (key.size() == 1) {
      return key.values().iterator().next();
    }
    return key.get("site") + "/" + key.get("status");
  }

  private static void assertMatches(
      Map<String, WindowAggregate> finals, String aggregation, Map<String, WindowOracle.Window> expected,
      java.util.function.BiConsumer<WindowOracle.Window, WindowAggregate> values) {
    Map<String, WindowAggregate> actual = new TreeMap<>();
    finals.forEach((k, v) -> {
      if (v.getAggregation().equals(aggregation)) {
        actual.put(k.substring(aggregation.length() + 1), v);
      }
    });
    assertThat(actual.keySet()).as("%s windows", aggregation).containsExactlyInAnyOrderElementsOf(expected.keySet());
    expected.forEach((id, w) -> {
      WindowAggregate a = actual.get(id);
      assertThat(a.getCount()).as("%s %s count", aggregation, id).isEqualTo(w.count());
      assertThat(a.getValues().get("count")).as("%s %s count value", aggregation, id).isEqualTo((double) w.count());
      values.accept(w, a);
    });
  }

  private static void assertClose(Double actual, double expected) {
    assertThat(actual).isNotNull();
    assertThat(actual).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-9 * Math.max(1, Math.abs(expected))));
  }
}
