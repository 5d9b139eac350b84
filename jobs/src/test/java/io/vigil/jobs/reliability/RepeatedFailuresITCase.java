package io.vigil.jobs.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.jobs.NamedSink;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.jobs.testing.TestReadings;
import io.vigil.jobs.testing.WindowOracle;
import io.vigil.schemas.WindowAggregate;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 2: exceptions thrown inside the running job three times, each after records were
 * written and a checkpoint completed in that attempt. With exactly-once delivery every expected
 * window is committed once with the oracle's values; the same run with at-least-once delivery (the
 * negative control, scenario 8) shows duplicates, so the check can fail.
 */
class RepeatedFailuresITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();
  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

  private static final int FAILURES = 3;
  private static Map<String, WindowOracle.Window> expected;

  private static final String SPEC =
      """
      name: %s
      eventType: SensorReading
      key: deviceId
      eventTime: eventTime
      input:
        kafka:
          bootstrapServers: %s
          topics: [rf-readings]
          groupId: %s
      aggregations:
        - name: device-10s
          window: { type: tumbling, size: 10 s }
          groupBy: [deviceId]
          compute: [count, sum(temperature)]
      outputs:
        aggregates: [{ kind: kafka, topic: %s, deliveryGuarantee: %s }]
        deadLetters: [{ kind: kafka, topic: %s-dead, deliveryGuarantee: %s }]
      settings:
        restart-strategy.type: fixed-delay
        restart-strategy.fixed-delay.attempts: %d
        restart-strategy.fixed-delay.delay: 200 ms
        vigil.checkpoint.interval: 300 ms
        vigil.checkpoint.dir: %s
      """;

  @BeforeAll
  static void writeInput() throws Exception {
    KAFKA.broker().createTopic("rf-readings", 4);
    List<TestReadings.Sent> input =
        TestReadings.send(KAFKA.bootstrapServers(), "rf-readings", TestReadings.generate(30_000, 60, 5, 5, 2_000, 0.0, 21));
    expected = WindowOracle.sliding(input.stream().map(s -> s.event(s.reading().getDeviceId())).toList(), 10_000, 10_000);
  }

  @BeforeEach
  void resetFailures() {
    InjectedFailureSink.FAILURES.set(0);
  }

  private OutputCheck runWithRepeatedFailures(String name, String guarantee, Path checkpoints) throws Exception {
    KAFKA.broker().createTopic(name, 2);
    KAFKA.broker().createTopic(name + "-dead", 1);
    CompiledSpec spec =
        JobRunner.compile(SPEC.formatted(name, KAFKA.bootstrapServers(), name, name, guarantee, name, guarantee, FAILURES, checkpoints.toUri()));
    JobRunner.runBounded(spec, List.of(new NamedSink<>("fail", "injected failures", new InjectedFailureSink<WindowAggregate>(FAILURES, 50, 5))));
    assertThat(InjectedFailureSink.FAILURES.get()).as("failures injected").isEqualTo(FAILURES);
    return OutputCheck.of(JobRunner.aggregates(KAFKA.bootstrapServers(), name), expected);
  }

  @Test
  void exactlyOnceOutputMatchesTheOracleAfterThreeFailures(@TempDir Path checkpoints) throws Exception {
    OutputCheck check = runWithRepeatedFailures("rf-exactly-once", "exactly-once", checkpoints);
    assertThat(check.duplicated()).as("duplicated windows").isEmpty();
    assertThat(check.missing()).as("missing windows").isEmpty();
    assertThat(check.wrong()).as("windows with wrong values").isEmpty();
    assertThat(check.unexpected()).as("windows the input does not have").isEmpty();
  }

  @Test
  void atLeastOnceOutputShowsDuplicatesAfterTheSameFailures(@TempDir Path checkpoints) throws Exception {
    OutputCheck check = runWithRepeatedFailures("rf-at-least-once", "at-least-once", checkpoints);
    assertThat(check.duplicated()).as("the negative control must see duplicates, or the check is broken").isNotEmpty();
    assertThat(check.missing()).as("at-least-once still loses nothing").isEmpty();
  }
}
