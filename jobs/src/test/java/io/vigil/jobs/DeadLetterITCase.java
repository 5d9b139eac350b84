package io.vigil.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.ingest.EventEncoders;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.jobs.testing.TestReadings;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.WindowAggregate;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad records of many kinds mixed into good ones: the dead-letter topic holds exactly the bad ones,
 * each with the right reason, its original bytes and its offset; every good event is counted
 * exactly once; and the job never restarts (its restart strategy is "none", so any failure would
 * fail the test).
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

  /** A kind of bad record: the reason it must get, and how to make one from a good reading. */
  private record Bad(String name, DeadLetterReason reason, Function<SensorReading, byte[]> make) {}

  private static final List<Bad> BAD_KINDS =
      List.of(
          new Bad("empty", DeadLetterReason.EMPTY_RECORD, r -> new byte[0]),
          new Bad("oversized", DeadLetterReason.OVERSIZED_RECORD, r -> json(r).replace("\"firmware\":\"1.0\"", "\"firmware\":\"" + "x".repeat(10_000) + "\"").getBytes(StandardCharsets.UTF_8)),
          new Bad("random bytes", DeadLetterReason.UNDECODABLE, r -> randomBytes(r.getEventId().hashCode())),
          new Bad("truncated avro", DeadLetterReason.UNDECODABLE, r -> { byte[] b = EventEncoders.singleObject(r); return Arrays.copyOf(b, b.length - 7); }),
          new Bad("trailing bytes", DeadLetterReason.UNDECODABLE, r -> { byte[] b = EventEncoders.singleObject(r); return Arrays.copyOf(b, b.length + 3); }),
          new Bad("malformed json", DeadLetterReason.UNDECODABLE, r -> "{\"eventId\": \"x\", \"deviceId\": ".getBytes(StandardCharsets.UTF_8)),
          new Bad("invalid utf-8", DeadLetterReason.UNDECODABLE, r -> withInvalidUtf8(json(r))),
          new Bad("deeply nested json", DeadLetterReason.UNDECODABLE, r -> ("{\"eventId\":" + "[".repeat(1_500) + "]".repeat(1_500) + "}").getBytes(StandardCharsets.UTF_8)),
          new Bad("unknown fingerprint", DeadLetterReason.UNKNOWN_FINGERPRINT, r -> { byte[] b = EventEncoders.singleObject(r); ByteBuffer.wrap(b, 2, 8).putLong(0x0123456789ABCDEFL); return b; }),
          new Bad("another record type", DeadLetterReason.INCOMPATIBLE_SCHEMA, r -> EventEncoders.singleObject(aggregate(r))),
          new Bad("json missing field", DeadLetterReason.MISSING_FIELD, r -> json(r).replaceFirst("\"temperature\":[-0-9.E]+,", "").getBytes(StandardCharsets.UTF_8)),
          new Bad("json wrong type", DeadLetterReason.WRONG_TYPE, r -> json(r).replaceFirst("\"temperature\":[-0-9.E]+", "\"temperature\":\"warm\"").getBytes(StandardCharsets.UTF_8)),
          new Bad("json unknown enum symbol", DeadLetterReason.WRONG_TYPE, r -> json(r).replace("\"status\":\"OK\"", "\"status\":\"MELTING\"").getBytes(StandardCharsets.UTF_8)),
          new Bad("NaN temperature", DeadLetterReason.INVALID_VALUE, r -> { SensorReading c = SensorReading.newBuilder(r).setTemperature(Double.NaN).build(); return EventEncoders.singleObject(c); }),
          new Bad("infinite humidity", DeadLetterReason.INVALID_VALUE, r -> { SensorReading c = SensorReading.newBuilder(r).setHumidity(Double.POSITIVE_INFINITY).build(); return EventEncoders.singleObject(c); }),
          new Bad("empty key", DeadLetterReason.MISSING_KEY, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setDeviceId("").build())),
          new Bad("json null key", DeadLetterReason.MISSING_KEY, r -> json(r).replaceFirst("\"deviceId\":\"[^\"]*\"", "\"deviceId\":null").getBytes(StandardCharsets.UTF_8)),
          new Bad("year 1 event time", DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setEventTime(Instant.parse("0001-01-01T00:00:00Z")).build())),
          new Bad("year 9999 event time", DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setEventTime(Instant.parse("9999-12-31T23:59:59Z")).build())));

  @Test
  void deadLetterTopicHoldsExactlyTheBadRecordsWithReasonsAndOffsets(@TempDir Path checkpoints) throws Exception {
    KAFKA.broker().createTopic("dl-readings", 4);
    KAFKA.broker().createTopic("dl-aggregates", 1);
    KAFKA.broker().createTopic("dl-dead-letters", 1);
    List<TestReadings.Sent> good = TestReadings.generate(20_000, 50, 5, 50, 2_000, 0.0, 11);
    List<TestReadings.Sent> mixed = new ArrayList<>();
    Map<String, Bad> badByEventId = new HashMap<>();
    Random random = new Random(3);
    int next = 0;
    for (TestReadings.Sent s : good) {
      mixed.add(s);
      if (random.nextInt(50) == 0) {
        Bad bad = BAD_KINDS.get(next++ % BAD_KINDS.size());
        // The same key as the good record, so bad and good share partitions.
        mixed.add(new TestReadings.Sent(s.key(), bad.make().apply(s.reading()), null, false, -1, -1));
        badByEventId.put("bad-" + mixed.size(), bad);
      }
    }
    List<TestReadings.Sent> sent = TestReadings.send(KAFKA.bootstrapServers(), "dl-readings", mixed);
    Map<String, Bad> expectedByOffset = new HashMap<>();
    Map<String, byte[]> bytesByOffset = new HashMap<>();
    for (int i = 0; i < sent.size(); i++) {
      Bad bad = badByEventId.get("bad-" + (i + 1));
      if (bad != null) {
        String offset = sent.get(i).partition() + "@" + sent.get(i).offset();
        expectedByOffset.put(offset, bad);
        bytesByOffset.put(offset, sent.get(i).value());
      }
    }
    assertThat(expectedByOffset.size()).isGreaterThanOrEqualTo(BAD_KINDS.size() * 10);

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
      Bad bad = expectedByOffset.get(offset);
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

  private static String json(SensorReading r) {
    return new String(EventEncoders.json(r), StandardCharsets.UTF_8).replace(" ", "");
  }

  private static WindowAggregate aggregate(SensorReading r) {
    return WindowAggregate.newBuilder()
        .setAggregation("x").setGroupKey(Map.of("deviceId", r.getDeviceId()))
        .setWindowStart(0).setWindowEnd(1).setCount(1).setValues(Map.of()).setRevision(0).build();
  }

  private static byte[] randomBytes(int seed) {
    byte[] bytes = new byte[40];
    new Random(seed).nextBytes(bytes);
    bytes[0] = (byte) 0x81;
    return bytes;
  }

  private static byte[] withInvalidUtf8(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    int at = json.indexOf("site-") + 2;
    bytes[at] = (byte) 0xC3;
    bytes[at + 1] = (byte) 0x28;
    return bytes;
  }
}
