package io.vigil.jobs.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.BadRecords;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.jobs.testing.TestReadings;
import io.vigil.jobs.testing.WindowOracle;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 7: every kind of {@link BadRecords} (at least 20) mixed about 1:100 into normal traffic,
 * plus good events re-sent with the same event id. The job never restarts (restart strategy
 * "none": any failure fails the test), the dead-letter topic holds exactly one record per injected
 * bad one with its reason, and every good event is in exactly one committed window per the oracle.
 *
 * <p>A re-sent event id is a valid event: Vigil does not deduplicate (ids are the producer's
 * business, and a window cannot tell a retry from two readings), so each copy is counted.
 */
class PoisonInputITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();
  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

  private static final String SPEC =
      """
      name: poison
      eventType: SensorReading
      key: deviceId
      eventTime: eventTime
      input:
        kafka:
          bootstrapServers: %s
          topics: [poison-readings]
        validation:
          maxRecordSize: 4 kb
          eventTimeNotBefore: 2000-01-01T00:00:00Z
          eventTimeNotAfter: 2100-01-01T00:00:00Z
      aggregations:
        - name: device-10s
          window: { type: tumbling, size: 10 s }
          groupBy: [deviceId]
          compute: [count, sum(temperature)]
      outputs:
        aggregates: [{ kind: kafka, topic: poison-aggregates }]
        deadLetters: [{ kind: kafka, topic: poison-dead-letters }]
      settings:
        restart-strategy.type: none
        vigil.checkpoint.interval: 500 ms
        vigil.checkpoint.dir: %s
      """;

  @Test
  void hostileRecordsBecomeDeadLettersWithoutRestartsAndGoodEventsCountOnce(@TempDir Path checkpoints) throws Exception {
    assertThat(BadRecords.KINDS).hasSizeGreaterThanOrEqualTo(20);
    KAFKA.broker().createTopic("poison-readings", 4);
    KAFKA.broker().createTopic("poison-aggregates", 2);
    KAFKA.broker().createTopic("poison-dead-letters", 2);

    List<TestReadings.Sent> mixed = new ArrayList<>();
    List<TestReadings.Sent> good = new ArrayList<>();
    Map<Integer, BadRecords.Kind> badAt = new HashMap<>();
    Random random = new Random(7);
    int next = 0;
    int resent = 0;
    for (TestReadings.Sent s : TestReadings.generate(30_000, 60, 5, 5, 2_000, 0.0, 41)) {
      mixed.add(s);
      good.add(s);
      int roll = random.nextInt(200);
      if (roll < 2) {
        BadRecords.Kind kind = BadRecords.KINDS.get(next++ % BadRecords.KINDS.size());
        badAt.put(mixed.size(), kind);
        mixed.add(new TestReadings.Sent(s.key(), kind.make().apply(s.reading()), null, false, -1, -1));
      } else if (roll == 2) {
        // The same event, same bytes, again: a producer retry without idempotence looks like this.
        mixed.add(s);
        good.add(s);
        resent++;
      }
    }
    assertThat(badAt.size()).as("about 1 bad per 100 good, every kind at least 10 times")
        .isBetween(good.size() / 150, good.size() / 70).isGreaterThanOrEqualTo(BadRecords.KINDS.size() * 10);
    assertThat(resent).isPositive();

    List<TestReadings.Sent> sent = TestReadings.send(KAFKA.bootstrapServers(), "poison-readings", mixed);
    Map<String, DeadLetterReason> expectedReasons = new HashMap<>();
    badAt.forEach((i, kind) -> expectedReasons.put(sent.get(i).partition() + "@" + sent.get(i).offset(), kind.reason()));

    JobRunner.runBounded(JobRunner.compile(SPEC.formatted(KAFKA.bootstrapServers(), checkpoints.toUri())), List.of());

    Map<String, DeadLetterReason> actualReasons = new HashMap<>();
    for (DeadLetter d : JobRunner.deadLetters(KAFKA.bootstrapServers(), "poison-dead-letters")) {
      String offset = d.getSource().getPartition() + "@" + d.getSource().getOffset();
      assertThat(actualReasons.put(offset, d.getReason())).as("one dead letter per bad record: %s", offset).isNull();
    }
    assertThat(actualReasons).as("dead letters by offset, with their reasons").isEqualTo(expectedReasons);

    Map<String, WindowOracle.Window> expected =
        WindowOracle.sliding(good.stream().map(s -> s.event(s.reading().getDeviceId())).toList(), 10_000, 10_000);
    OutputCheck check = OutputCheck.of(JobRunner.aggregates(KAFKA.bootstrapServers(), "poison-aggregates"), expected);
    assertThat(check.duplicated()).as("duplicated windows").isEmpty();
    assertThat(check.missing()).as("missing windows").isEmpty();
    assertThat(check.wrong()).as("windows with wrong values (re-sent events count twice)").isEmpty();
    assertThat(check.unexpected()).as("windows the input does not have").isEmpty();
  }
}
