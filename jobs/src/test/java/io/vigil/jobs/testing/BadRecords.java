package io.vigil.jobs.testing;

import io.vigil.functions.ingest.EventEncoders;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.WindowAggregate;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * Malformed and hostile records, each made from a good reading, with the dead-letter reason Vigil
 * must give it. Specs that use them set {@code maxRecordSize: 4 kb} and event-time bounds
 * 2000-01-01 to 2100-01-01, and read {@code format: auto}.
 */
public final class BadRecords {

  /** A kind of bad record: the reason it must get, and how to make one from a good reading. */
  public record Kind(String name, DeadLetterReason reason, Function<SensorReading, byte[]> make) {}

  public static final List<Kind> KINDS =
      List.of(
          new Kind("empty", DeadLetterReason.EMPTY_RECORD, r -> new byte[0]),
          new Kind("oversized", DeadLetterReason.OVERSIZED_RECORD, r -> json(r).replace("\"firmware\":\"1.0\"", "\"firmware\":\"" + "x".repeat(10_000) + "\"").getBytes(StandardCharsets.UTF_8)),
          new Kind("random bytes", DeadLetterReason.UNDECODABLE, r -> randomBytes(r.getEventId().hashCode())),
          new Kind("truncated avro", DeadLetterReason.UNDECODABLE, r -> { byte[] b = EventEncoders.singleObject(r); return Arrays.copyOf(b, b.length - 7); }),
          new Kind("trailing bytes", DeadLetterReason.UNDECODABLE, r -> { byte[] b = EventEncoders.singleObject(r); return Arrays.copyOf(b, b.length + 3); }),
          new Kind("malformed json", DeadLetterReason.UNDECODABLE, r -> "{\"eventId\": \"x\", \"deviceId\": ".getBytes(StandardCharsets.UTF_8)),
          new Kind("invalid utf-8", DeadLetterReason.UNDECODABLE, r -> withInvalidUtf8(json(r))),
          new Kind("deeply nested json", DeadLetterReason.UNDECODABLE, r -> ("{\"eventId\":" + "[".repeat(1_500) + "]".repeat(1_500) + "}").getBytes(StandardCharsets.UTF_8)),
          new Kind("unknown fingerprint", DeadLetterReason.UNKNOWN_FINGERPRINT, r -> { byte[] b = EventEncoders.singleObject(r); ByteBuffer.wrap(b, 2, 8).putLong(0x0123456789ABCDEFL); return b; }),
          new Kind("another record type", DeadLetterReason.INCOMPATIBLE_SCHEMA, r -> EventEncoders.singleObject(aggregate(r))),
          new Kind("json missing field", DeadLetterReason.MISSING_FIELD, r -> json(r).replaceFirst("\"temperature\":[-0-9.E]+,", "").getBytes(StandardCharsets.UTF_8)),
          new Kind("json wrong type", DeadLetterReason.WRONG_TYPE, r -> json(r).replaceFirst("\"temperature\":[-0-9.E]+", "\"temperature\":\"warm\"").getBytes(StandardCharsets.UTF_8)),
          new Kind("json unknown enum symbol", DeadLetterReason.WRONG_TYPE, r -> json(r).replace("\"status\":\"OK\"", "\"status\":\"MELTING\"").getBytes(StandardCharsets.UTF_8)),
          new Kind("NaN temperature", DeadLetterReason.INVALID_VALUE, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setTemperature(Double.NaN).build())),
          new Kind("infinite humidity", DeadLetterReason.INVALID_VALUE, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setHumidity(Double.POSITIVE_INFINITY).build())),
          new Kind("empty key", DeadLetterReason.MISSING_KEY, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setDeviceId("").build())),
          new Kind("json null key", DeadLetterReason.MISSING_KEY, r -> json(r).replaceFirst("\"deviceId\":\"[^\"]*\"", "\"deviceId\":null").getBytes(StandardCharsets.UTF_8)),
          new Kind("year 1 event time", DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setEventTime(Instant.parse("0001-01-01T00:00:00Z")).build())),
          new Kind("year 9999 event time", DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setEventTime(Instant.parse("9999-12-31T23:59:59Z")).build())),
          new Kind("1970 event time", DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS, r -> EventEncoders.singleObject(SensorReading.newBuilder(r).setEventTime(Instant.EPOCH).build())),
          new Kind("json NaN literal", DeadLetterReason.INVALID_VALUE, r -> json(r).replaceFirst("\"temperature\":[-0-9.E]+", "\"temperature\":NaN").getBytes(StandardCharsets.UTF_8)),
          new Kind("json -Infinity literal", DeadLetterReason.INVALID_VALUE, r -> json(r).replaceFirst("\"humidity\":[-0-9.E]+", "\"humidity\":-Infinity").getBytes(StandardCharsets.UTF_8)),
          new Kind("json missing event time", DeadLetterReason.MISSING_EVENT_TIME, r -> json(r).replaceFirst("\"eventTime\":[-0-9]+,", "").getBytes(StandardCharsets.UTF_8)),
          new Kind("json duplicate field", DeadLetterReason.UNDECODABLE, r -> json(r).replaceFirst("\\{", "{\"deviceId\":\"other\",").getBytes(StandardCharsets.UTF_8)),
          new Kind("json top-level array", DeadLetterReason.UNDECODABLE, r -> ("[" + json(r) + "]").getBytes(StandardCharsets.UTF_8)),
          new Kind("single-object header only", DeadLetterReason.UNDECODABLE, r -> Arrays.copyOf(EventEncoders.singleObject(r), 10)),
          new Kind("NUL bytes", DeadLetterReason.UNDECODABLE, r -> new byte[64]));

  private BadRecords() {}

  /** The reading as compact JSON, for kinds that edit its text. */
  public static String json(SensorReading r) {
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
