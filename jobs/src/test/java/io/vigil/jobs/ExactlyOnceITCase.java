package io.vigil.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.FailOnceSink;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.jobs.testing.TestReadings;
import io.vigil.jobs.testing.WindowOracle;
import io.vigil.schemas.WindowAggregate;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failure injected after the first completed checkpoint: with exactly-once delivery the
 * committed output has no duplicate and no missing window; with at-least-once (the negative
 * control) the same check finds duplicates, which shows the check can fail.
 */
class ExactlyOnceITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();
  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

  private static Map<String, WindowOracle.Window> expected;

  @BeforeAll
  static void writeInput() throws Exception {
    KAFKA.broker().createTopic("eo-readings", 4);
    List<TestReadings.Sent> input =
        TestReadings.send(KAFKA.bootstrapServers(), "eo-readings", TestReadings.generate(40_000, 100, 5, 100, 2_000, 0.0, 5));
    expected = WindowOracle.sliding(input.stream().map(s -> s.event(s.reading().getDeviceId())).toList(), 60_000, 60_000);
  }

  @BeforeEach
  void resetFailures() {
    FailOnceSink.FAILURES.set(0);
  }

  private static final String SPEC =
      """
      name: %s
      eventType: SensorReading
      key: deviceId
      eventTime: eventTime
      input:
        kafka:
          bootstrapServers: %s
          topics: [eo-readings]
          groupId: %s
      aggregations:
        - name: device-1m
          window: { type: tumbling, size: 1 min }
          groupBy: [deviceId]
          compute: [count, sum(temperature)]
      outputs:
        aggregates: [{ kind: kafka, topic: %s, deliveryGuarantee: %s }]
        deadLetters: [{ kind: kafka, topic: %s-dead, deliveryGuarantee: %s }]
      settings:
        restart-strategy.type: fixed-delay
        restart-strategy.fixed-delay.attempts: 3
        restart-strategy.fixed-delay.delay: 200 ms
        vigil.checkpoint.interval: 300 ms
        vigil.checkpoint.dir: %s
      """;

  private Map<String, Integer> runWithOneFailure(String name, String guarantee, Path checkpoints) throws Exception {
    KAFKA.broker().createTopic(name, 2);
    KAFKA.broker().createTopic(name + "-dead", 1);
    CompiledSpec spec = JobRunner.compile(SPEC.formatted(name, KAFKA.bootstrapServers(), name, name, guarantee, name, guarantee, checkpoints.toUri()));
    JobRunner.runBounded(spec, List.of(new NamedSink<>("fail-once", "fail once", new FailOnceSink<WindowAggregate>())));
    assertThat(FailOnceSink.FAILURES.get()).as("the failure was injected").isEqualTo(1);
    Map<String, Integer> copies = new HashMap<>();
    for (WindowAggregate a : JobRunner.aggregates(KAFKA.bootstrapServers(), name)) {
      assertThat(a.getRevision()).isZero();
      String window = WindowOracle.id(a.getGroupKey().get("deviceId"), a.getWindowStart(), a.getWindowEnd());
      WindowOracle.Window w = expected.get(window);
      assertThat(w).as("unexpected window %s", window).isNotNull();
      assertThat(a.getCount()).as("count of %s", window).isEqualTo(w.count());
      copies.merge(window, 1, Integer::sum);
    }
    return copies;
  }

  @Test
  void exactlyOnceOutputHasNoDuplicateAndNoMissingWindowAfterAFailure(@TempDir Path checkpoints) throws Exception {
    Map<String, Integer> copies = runWithOneFailure("eo-exactly-once", "exactly-once", checkpoints);
    Set<String> duplicated = new HashSet<>();
    copies.forEach((w, n) -> {
      if (n > 1) {
        duplicated.add(w);
      }
    });
    assertThat(duplicated).as("duplicates").isEmpty();
    assertThat(copies.keySet()).as("missing windows").containsExactlyInAnyOrderElementsOf(expected.keySet());
  }

  @Test
  void atLeastOnceOutputShowsDuplicatesAfterTheSameFailure(@TempDir Path checkpoints) throws Exception {
    Map<String, Integer> copies = runWithOneFailure("eo-at-least-once", "at-least-once", checkpoints);
    long duplicates = copies.values().stream().filter(n -> n > 1).count();
    assertThat(duplicates).as("the negative control must see duplicates, or the check is broken").isPositive();
    assertThat(copies.keySet()).as("at-least-once still loses nothing").containsExactlyInAnyOrderElementsOf(expected.keySet());
  }
}
