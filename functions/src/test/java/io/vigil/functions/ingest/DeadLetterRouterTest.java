package io.vigil.functions.ingest;

import static io.vigil.functions.ingest.SensorReadings.EVENT_TIME;
import static io.vigil.functions.ingest.SensorReadings.SOURCE;
import static io.vigil.functions.ingest.SensorReadings.assertSameReading;
import static io.vigil.functions.ingest.SensorReadings.builder;
import static io.vigil.functions.ingest.SensorReadings.reading;
import static io.vigil.functions.ingest.SensorReadings.settings;
import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import io.vigil.schemas.WindowAggregate;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Records decoded by {@link EventDecoder} and routed by {@link DeadLetterRouter}: each kind of bad
 * record reaches the dead-letter output with its reason, original bytes and coordinates, and good
 * records in every wire format reach the main output with the values they were written with.
 */
class DeadLetterRouterTest {

  private static final long INPUT_TIMESTAMP = 123L;

  private OneInputStreamOperatorTestHarness<GenericRecord, GenericRecord> harness;

  @BeforeEach
  void openHarness() throws Exception {
    harness = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new DeadLetterRouter("SensorReading")));
    // As on every Vigil job: a Kryo fallback anywhere must fail the test.
    ((SerializerConfigImpl) harness.getExecutionConfig().getSerializerConfig())
        .setGenericTypes(false);
    harness.setup(
        Envelopes.typeInfo(SensorReading.getClassSchema())
            .createSerializer(harness.getExecutionConfig().getSerializerConfig()));
    harness.open();
  }

  @AfterEach
  void closeHarness() throws Exception {
    harness.close();
  }

  // ---- valid records ----

  @Test
  void passesSingleObjectRecordOfCurrentSchema() throws Exception {
    SensorReading written = reading();
    GenericRecord envelope = routeValid(settings(), EventEncoders.singleObject(written));
    assertSameReading(Envelopes.event(envelope), written, "2.1.0");
    assertThat(Envelopes.key(envelope)).isEqualTo("d1");
    assertThat(Envelopes.eventTime(envelope)).isEqualTo(EVENT_TIME);
  }

  @Test
  void resolvesSingleObjectRecordOfV1SchemaToCurrentWithFirmwareDefault() throws Exception {
    GenericRecord written = SensorReadings.v1Reading();
    GenericRecord envelope = routeValid(settings(), EventEncoders.singleObject(written));
    assertSameReading(Envelopes.event(envelope), written, "unknown");
    assertThat(Envelopes.event(envelope).get("firmware")).isEqualTo("unknown");
    assertThat(Envelopes.key(envelope)).isEqualTo("d-old");
  }

  @Test
  void passesAvroBinaryRecord() throws Exception {
    SensorReading written = builder().setSite("Zürich 東京").build();
    GenericRecord envelope = routeValid(settings(), EventEncoders.avroBinary(written));
    assertSameReading(Envelopes.event(envelope), written, "2.1.0");
  }

  @Test
  void passesPlainJsonRecordAsPeopleWriteIt() throws Exception {
    String json =
        "{\"eventId\":\"e1\",\"deviceId\":\"d1\",\"site\":\"plant-a\",\"eventTime\":1700000000000,"
            + "\"temperature\":21.5,\"humidity\":40.25,\"battery\":88,\"status\":\"WARN\","
            + "\"comment\":\"extra fields are ignored\"}";
    GenericRecord envelope = routeValid(settings(), json.getBytes(StandardCharsets.UTF_8));
    // firmware is absent from the JSON: its schema default applies.
    assertSameReading(
        Envelopes.event(envelope), builder().setFirmware("unknown").build(), "unknown");
  }

  @Test
  void passesJsonWrittenByEventEncoders() throws Exception {
    SensorReading written = builder().setStatus(DeviceStatus.FAULT).setSite("ümlaut").build();
    GenericRecord envelope = routeValid(settings(), EventEncoders.json(written));
    assertSameReading(Envelopes.event(envelope), written, "2.1.0");
  }

  @Test
  void acceptsEventTimesOnBothBoundsInclusive() throws Exception {
    DecodeSettings bounded = settings().withEventTimeBounds(EVENT_TIME, EVENT_TIME + 10);
    routeValid(bounded, EventEncoders.avroBinary(builder().setEventTime(Instant.ofEpochMilli(EVENT_TIME)).build()));
    routeValid(bounded, EventEncoders.avroBinary(builder().setEventTime(Instant.ofEpochMilli(EVENT_TIME + 10)).build()));
  }

  @Test
  void acceptsNonFiniteNumbersWhenConfiguredTo() throws Exception {
    SensorReading written = builder().setTemperature(Double.NaN).build();
    GenericRecord envelope =
        routeValid(settings().withRejectNonFiniteNumbers(false), EventEncoders.json(written));
    assertThat((Double) Envelopes.event(envelope).get("temperature")).isNaN();
  }

  // ---- one test per dead-letter reason ----

  @Test
  void deadLettersNullRecordAsEmpty() throws Exception {
    DeadLetter deadLetter = routeFailed(settings(), null, DeadLetterReason.EMPTY_RECORD);
    assertThat(deadLetter.getPayload().remaining()).isZero();
  }

  @Test
  void deadLettersZeroByteRecordAsEmpty() throws Exception {
    routeFailed(settings(), new byte[0], DeadLetterReason.EMPTY_RECORD);
  }

  @Test
  void deadLettersRecordLongerThanLimitAsOversized() throws Exception {
    byte[] bytes = EventEncoders.avroBinary(reading());
    DeadLetter deadLetter =
        routeFailed(
            settings().withMaxRecordBytes(bytes.length - 1),
            bytes,
            DeadLetterReason.OVERSIZED_RECORD);
    assertThat(deadLetter.getMessage()).contains(String.valueOf(bytes.length - 1));
  }

  @Test
  void deadLettersTruncatedAvroAsUndecodable() throws Exception {
    byte[] bytes = EventEncoders.avroBinary(reading());
    DeadLetter deadLetter =
        routeFailed(
            settings(),
            Arrays.copyOf(bytes, bytes.length - 3),
            DeadLetterReason.UNDECODABLE);
    assertThat(deadLetter.getMessage()).contains("truncated");
  }

  @Test
  void deadLettersAvroWithTrailingBytesAsUndecodable() throws Exception {
    byte[] bytes = concat(EventEncoders.singleObject(reading()), new byte[] {0, 0});
    DeadLetter deadLetter = routeFailed(settings(), bytes, DeadLetterReason.UNDECODABLE);
    assertThat(deadLetter.getMessage()).contains("2 trailing bytes");
  }

  @Test
  void deadLettersHugeLengthPrefixAsUndecodableWithoutAllocatingIt() throws Exception {
    // eventId claims 1,073,741,823 bytes of string (zig-zag varint), followed by nothing.
    byte[] bytes = {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 'x'};
    routeFailed(settings().withFormat(WireFormat.AVRO_BINARY), bytes, DeadLetterReason.UNDECODABLE);
  }

  @Test
  void deadLettersInvalidUtf8InAvroStringAsUndecodableNamingTheField() throws Exception {
    byte[] bytes = EventEncoders.avroBinary(builder().setSite("caf\u00e9").build());
    int at = indexOf(bytes, new byte[] {(byte) 0xC3, (byte) 0xA9});
    bytes[at + 1] = '(';
    DeadLetter deadLetter = routeFailed(settings(), bytes, DeadLetterReason.UNDECODABLE);
    assertThat(deadLetter.getMessage()).contains("'site'").contains("UTF-8");
  }

  @Test
  void deadLettersInvalidUtf8InJsonStringAsUndecodable() throws Exception {
    byte[] bytes = EventEncoders.json(builder().setSite("caf\u00e9").build());
    int at = indexOf(bytes, new byte[] {(byte) 0xC3, (byte) 0xA9});
    bytes[at + 1] = '(';
    routeFailed(settings(), bytes, DeadLetterReason.UNDECODABLE);
  }

  @Test
  void deadLettersMalformedJsonAsUndecodable() throws Exception {
    DeadLetter deadLetter =
        routeFailed(settings(), utf8("{\"eventId\": \"e1\", \"deviceId\": }"), DeadLetterReason.UNDECODABLE);
    assertThat(deadLetter.getMessage()).contains("malformed JSON");
  }

  @Test
  void deadLettersHostileDeeplyNestedJsonAsUndecodable() throws Exception {
    String json = "{\"eventId\":" + "[".repeat(100_000);
    DeadLetter deadLetter = routeFailed(settings(), utf8(json), DeadLetterReason.UNDECODABLE);
    assertThat(deadLetter.getMessage()).containsIgnoringCase("nesting depth");
  }

  @Test
  void deadLettersUnknownFingerprint() throws Exception {
    byte[] bytes = EventEncoders.singleObject(reading());
    byte[] fingerprint = {1, 2, 3, 4, 5, 6, 7, 8};
    System.arraycopy(fingerprint, 0, bytes, 2, 8);
    DeadLetter deadLetter = routeFailed(settings(), bytes, DeadLetterReason.UNKNOWN_FINGERPRINT);
    assertThat(deadLetter.getMessage()).contains("0807060504030201");
  }

  @Test
  void deadLettersSingleObjectDeadLetterAsIncompatibleSchema() throws Exception {
    DeadLetter fedBack =
        DeadLetter.newBuilder()
            .setReason(DeadLetterReason.UNKNOWN)
            .setMessage("m")
            .setEventType("SensorReading")
            .setSource(new SourceRef("t", 0, 0L, null))
            .setPayload(ByteBuffer.wrap(new byte[] {1}))
            .setStage("ingest")
            .build();
    DeadLetter deadLetter =
        routeFailed(
            settings(), EventEncoders.singleObject(fedBack), DeadLetterReason.INCOMPATIBLE_SCHEMA);
    assertThat(deadLetter.getMessage()).contains("io.vigil.schemas.DeadLetter");
  }

  @Test
  void deadLettersSingleObjectWindowAggregateAsIncompatibleSchema() throws Exception {
    WindowAggregate aggregate =
        WindowAggregate.newBuilder()
            .setAggregation("avg")
            .setGroupKey(Map.of("deviceId", "d1"))
            .setWindowStart(0L)
            .setWindowEnd(10L)
            .setCount(1L)
            .setValues(Map.of("avg_temperature", 1.0))
            .setRevision(0)
            .build();
    DeadLetter deadLetter =
        routeFailed(
            settings(), EventEncoders.singleObject(aggregate), DeadLetterReason.INCOMPATIBLE_SCHEMA);
    assertThat(deadLetter.getMessage()).contains("io.vigil.schemas.WindowAggregate");
  }

  @Test
  void deadLettersJsonWithoutRequiredFieldAsMissingField() throws Exception {
    byte[] json = utf8(jsonWithout("site"));
    DeadLetter deadLetter = routeFailed(settings(), json, DeadLetterReason.MISSING_FIELD);
    assertThat(deadLetter.getMessage()).contains("'site'");
  }

  @Test
  void deadLettersJsonStringInNumericFieldAsWrongType() throws Exception {
    byte[] json = utf8(jsonWithout("temperature").replace("{", "{\"temperature\":\"hot\","));
    DeadLetter deadLetter = routeFailed(settings(), json, DeadLetterReason.WRONG_TYPE);
    assertThat(deadLetter.getMessage()).contains("'temperature'").contains("\"hot\"");
  }

  @Test
  void deadLettersJsonUnknownEnumSymbolAsWrongType() throws Exception {
    byte[] json = utf8(jsonWithout("status").replace("{", "{\"status\":\"MELTING\","));
    DeadLetter deadLetter = routeFailed(settings(), json, DeadLetterReason.WRONG_TYPE);
    assertThat(deadLetter.getMessage()).contains("'status'").contains("MELTING");
  }

  @Test
  void deadLettersNaNInAvroAsInvalidValue() throws Exception {
    byte[] bytes = EventEncoders.avroBinary(builder().setHumidity(Double.NaN).build());
    DeadLetter deadLetter = routeFailed(settings(), bytes, DeadLetterReason.INVALID_VALUE);
    assertThat(deadLetter.getMessage()).contains("'humidity'").contains("NaN");
  }

  @Test
  void deadLettersInfinityInJsonAsInvalidValue() throws Exception {
    byte[] json =
        EventEncoders.json(builder().setBattery(Double.NEGATIVE_INFINITY).build());
    DeadLetter deadLetter = routeFailed(settings(), json, DeadLetterReason.INVALID_VALUE);
    assertThat(deadLetter.getMessage()).contains("'battery'").contains("Infinity");
  }

  @Test
  void deadLettersEmptyKeyAsMissingKey() throws Exception {
    byte[] bytes = EventEncoders.singleObject(builder().setDeviceId("").build());
    DeadLetter deadLetter = routeFailed(settings(), bytes, DeadLetterReason.MISSING_KEY);
    assertThat(deadLetter.getMessage()).contains("'deviceId'");
  }

  @Test
  void deadLettersJsonWithNullKeyAsMissingKey() throws Exception {
    byte[] json = utf8(jsonWithout("deviceId").replace("{", "{\"deviceId\":null,"));
    DeadLetter deadLetter = routeFailed(settings(), json, DeadLetterReason.MISSING_KEY);
    assertThat(deadLetter.getMessage()).contains("'deviceId'");
  }

  @Test
  void deadLettersJsonWithoutEventTimeAsMissingEventTime() throws Exception {
    byte[] json = utf8(jsonWithout("eventTime"));
    DeadLetter deadLetter = routeFailed(settings(), json, DeadLetterReason.MISSING_EVENT_TIME);
    assertThat(deadLetter.getMessage()).contains("'eventTime'");
  }

  @Test
  void deadLettersEventTimeBeforeLowerBoundAsOutOfBounds() throws Exception {
    byte[] bytes = EventEncoders.avroBinary(builder().setEventTime(Instant.EPOCH).build());
    DeadLetter deadLetter =
        routeFailed(settings(), bytes, DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS);
    assertThat(deadLetter.getMessage())
        .contains("'eventTime'")
        .contains("1970-01-01T00:00:00Z")
        .contains("2000-01-01T00:00:00Z");
  }

  @Test
  void deadLettersEventTimeAfterUpperBoundAsOutOfBounds() throws Exception {
    long justAfter = Instant.parse("2100-01-01T00:00:00Z").toEpochMilli() + 1;
    byte[] bytes = EventEncoders.json(builder().setEventTime(Instant.ofEpochMilli(justAfter)).build());
    routeFailed(settings(), bytes, DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS);
  }

  // ---- helpers ----

  private GenericRecord routeValid(DecodeSettings settings, byte[] bytes) throws Exception {
    GenericRecord envelope = new EventDecoder(settings).decode(SOURCE, bytes);
    harness.processElement(envelope, INPUT_TIMESTAMP);

    assertThat(harness.getSideOutput(DeadLetterRouter.DEAD_LETTERS)).isNullOrEmpty();
    List<GenericRecord> out = harness.extractOutputValues();
    assertThat(out).containsExactly(envelope);
    assertThat(Envelopes.isFailed(envelope)).isFalse();
    assertThat(Envelopes.source(envelope)).isEqualTo(SOURCE);
    assertThat(Envelopes.payload(envelope)).isEqualTo(ByteBuffer.wrap(bytes));
    harness.getOutput().clear();
    return envelope;
  }

  private DeadLetter routeFailed(DecodeSettings settings, byte[] bytes, DeadLetterReason reason)
      throws Exception {
    GenericRecord envelope = new EventDecoder(settings).decode(SOURCE, bytes);
    harness.processElement(envelope, INPUT_TIMESTAMP);

    assertThat(harness.extractOutputValues()).isEmpty();
    List<StreamRecord<DeadLetter>> side =
        List.copyOf(harness.getSideOutput(DeadLetterRouter.DEAD_LETTERS));
    assertThat(side).hasSize(1);
    assertThat(side.get(0).getTimestamp()).isEqualTo(INPUT_TIMESTAMP);
    DeadLetter deadLetter = side.get(0).getValue();
    assertThat(deadLetter.getReason()).as(deadLetter.getMessage()).isEqualTo(reason);
    assertThat(deadLetter.getPayload())
        .isEqualTo(ByteBuffer.wrap(bytes == null ? new byte[0] : bytes));
    assertThat(deadLetter.getSource()).isEqualTo(SOURCE);
    assertThat(deadLetter.getEventType()).isEqualTo("SensorReading");
    assertThat(deadLetter.getStage()).isEqualTo("ingest");
    assertThat(deadLetter.getMessage()).isNotBlank();
    harness.getSideOutput(DeadLetterRouter.DEAD_LETTERS).clear();
    return deadLetter;
  }

  /** A valid plain-JSON reading without {@code field}. */
  private static String jsonWithout(String field) {
    Map<String, String> fields =
        new LinkedHashMap<>(
            Map.of(
                "eventId", "\"e1\"",
                "deviceId", "\"d1\"",
                "site", "\"plant-a\"",
                "eventTime", "1700000000000",
                "temperature", "21.5",
                "humidity", "40.0",
                "battery", "88.0",
                "status", "\"OK\""));
    assertThat(fields.remove(field)).isNotNull();
    StringBuilder json = new StringBuilder("{");
    fields.forEach((name, value) -> json.append('"').append(name).append("\":").append(value).append(','));
    json.setCharAt(json.length() - 1, '}');
    return json.toString();
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("needle not found");
  }
}
