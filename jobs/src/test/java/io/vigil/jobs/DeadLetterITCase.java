package io.vigil.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.BadRecords;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.jobs.testing.TestReadings;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.WindowAggregate;
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
 * Bad records of every kind in {@link BadRecords} mixed into good ones: the dead-letter topic holds
 * exactly the bad ones, each with the right reason, its original bytes and its offset; every good
 * event is counted exactly once; and the job never restarts (its restart strategy is "none", so
 * any failure would fail the test).
 */
class DeadLetterITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();
  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

  private static final String SPEC =
      """
      name: dead-letters
      eventType: SensorReading
      key: deviceId
      eventTime: eventTime
      input:
        kafka:
          bootstrapServers: %s
          topics: [dl-readings]
        validation:
          maxRecordSize: 4 kb
          eventTimeNotBefore: 2000-01-01T00:00:00Z
          eventTimeNotAfter: 2100-01-01T00:00:00Z
      aggregations:
        - name: device-1m
          window: { type: tumbling, size: 1 min }
          groupBy: [deviceId]
          compute: [count]
      outputs:
        aggregates: [{ kind: kafka, topic: dl-aggregates }]
        deadLetters: [{ kind: kafka, topic: dl-dead-letters }]
      settings:
        restart-strategy.type: none
        vigil.checkpoint.interval: 1 s
        vigil.checkpoint.dir: %s
      """;

  @Test
  void deadLetterTopicHoldsExactlyTheBadRecordsWithReasonsAndOffsets(@TempDir Path checkpoints) throws Exception {
    KAFKA.broker().createTopic("dl-readings", 4);
    KAFKA.broker().createTopic("dl-aggregates", 1);
    KAFKA.broker().createTopic("dl-dead-letters", 1);
    List<TestReadings.Sent> good = TestReadings.generate(20_000, 50, 5, 50, 2_000, 0.0, 11);
    List<TestReadings.Sent> mixed = new ArrayList<>();
    Map<String, BadRecords.Kind> badByEventId = new HashMap<>();
    Random random = new Random(3);
    int next = 0;
    for (TestReadings.Sent s : good) {
      mixed.add(s);
      if (random.nextInt(50) == 0) {
        BadRecords.Kind bad = BadRecords.KINDS.get(next++ % BadRecords.KINDS.size());
        // The same key as the good record, so bad and good share partitions.
        mixed.add(new TestReadings.Sent(s.key(), bad.make().apply(s.reading()), null, false, -1, -1));
        badByEventId.put("bad-" + mixed.size(), bad);
      }
    }
    List<TestReadings.Sent> sent = TestReadings.send(KAFKA.bootstrapServers(), "dl-readings", mixed);
    Map<String, BadRecords.Kind> expectedByOffset = new HashMap<>();
    Map<String, byte[]> bytesByOffset = new HashMap<>();
    for (int i = 0; i < sent.size(); i++) {
      BadRecords.Kind bad = badByEventId.get("bad-" + (i + 1));
      if (bad != null) {
        String offset = sent.get(i).partition() + "@" + sent.get(i).offset();
        expectedByOffset.put(offset, bad);
        bytesByOffset.put(offset, sent.get(i).value());
      }
    }
    assertThat(expectedByOffset.size()).isGreaterThanOrEqualTo(BadRecords.KINDS.size() * 10);

    CompiledSpec spec = JobRunner.compile(SPEC.formatted(KAFKA.bootstrapServers(), checkpoints.toUri()));
    JobRunner.runBounded(spec, List.of());

    List<DeadLetter> deadLetters = JobRunner.deadLetters(KAFKA.bootstrapServers(), "dl-dead-letters");
    Map<String, DeadLetter> actualByOffset = new HashMap<>();
    for (DeadLetter d : deadLetters) {
      String offset = d.getSource().getPartition() + "@" + d.getSource().getOffset();
      assertThat(actualByOffset.put(offset, d)).as("one dead letter per bad record: %s", offset).isNull();
    }
    assertThat(actualByOffset.keySet()).containsExactlyInAnyOrderElementsOf(expectedByOffset.keySet());
    actualByOffset.forEach((offset, d) -> {
      BadRecords.Kind bad = expectedByOffset.get(offset);
      assertThat(d.getReason()).as("%s (%s): %s", bad.name(), offset, d.getMessage()).isEqualTo(bad.reason());
      assertThat(d.getSource().getTopic()).isEqualTo("dl-readings");
      assertThat(d.getStage()).isEqualTo("ingest");
      assertThat(d.getMessage()).isNotBlank();
      byte[] payload = new byte[d.getPayload().remaining()];
      d.getPayload().duplicate().get(payload);
      assertThat(payload).as("%s keeps the original bytes", bad.name()).isEqualTo(bytesByOffset.get(offset));
    });

    long counted = JobRunner.aggregates(KAFKA.bootstrapServers(), "dl-aggregates").stream().mapToLong(WindowAggregate::getCount).sum();
    assertThat(counted).as("every good event counted exactly once").isEqualTo(good.size());
  }
}
