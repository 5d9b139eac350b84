package io.vigil.functions.ingest;

import static io.vigil.functions.ingest.SensorReadings.SOURCE;
import static io.vigil.functions.ingest.SensorReadings.assertSameReading;
import static io.vigil.functions.ingest.SensorReadings.builder;
import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The checks of Avro input, for both Avro wire formats, each with the decoder configured for that
 * format and with {@link WireFormat#AUTO}: the shape of the record (exactly one datum, no length
 * prefix beyond its end), strict UTF-8, finite numbers, and the order in which they are reported.
 * The same decoder instance decodes the next record correctly after every rejection.
 */
class EventDecoderAvroTest {

  /** A wire format and whether the decoder detects it (AUTO) or is configured for it. */
  enum Case {
    SINGLE_OBJECT(WireFormat.AVRO_SINGLE_OBJECT, false),
    SINGLE_OBJECT_DETECTED(WireFormat.AVRO_SINGLE_OBJECT, true),
    BINARY(WireFormat.AVRO_BINARY, false),
    BINARY_DETECTED(WireFormat.AVRO_BINARY, true);

    final WireFormat format;
    final boolean detected;

    Case(WireFormat format, boolean detected) {
      this.format = format;
      this.detected = detected;
    }

    DecodeSettings settings() {
      return detected ? SensorReadings.settings() : SensorReadings.settings().withFormat(format);
    }

    byte[] encode(IndexedRecord record) {
      return format == WireFormat.AVRO_SINGLE_OBJECT
          ? EventEncoders.singleObject(record)
          : EventEncoders.avroBinary(record);
    }

    int headerBytes() {
      return format == WireFormat.AVRO_SINGLE_OBJECT ? 10 : 0;
    }
  }

  @ParameterizedTest
  @EnumSource(Case.class)
  void decodesNonAsciiStringsOfOneTwoThreeAndFourBytesUnchanged(Case c) {
    SensorReading written =
        builder().setEventId("é-\u6771-\uD83D\uDE00").setDeviceId("Zürich").setSite("東京").build();
    EventDecoder decoder = new EventDecoder(c.settings());

    GenericRecord envelope = decoder.decode(SOURCE, c.encode(written));

    assertThat(Envelopes.isFailed(envelope)).as(message(envelope)).isFalse();
    assertSameReading(Envelopes.event(envelope), written, "2.1.0");
    assertThat(Envelopes.key(envelope)).isEqualTo("Zürich");
  }

  @ParameterizedTest
  @EnumSource(Case.class)
  void everyTruncationAfterTheHeaderIsUndecodableAsTruncated(Case c) {
    byte[] bytes = c.encode(SensorReadings.reading());
    EventDecoder decoder = new EventDecoder(c.settings());
    for (int length = Math.max(1, c.headerBytes()); length < bytes.length; length++) {
      GenericRecord envelope = decoder.decode(SOURCE, Arrays.copyOf(bytes, length));
      assertThat(reason(envelope)).as("%d of %d bytes", length, bytes.length)
          .isEqualTo(DeadLetterReason.UNDECODABLE);
      assertThat(message(envelope)).as("%d of %d bytes", length, bytes.length).contains("truncated");
      assertDecodesTheNextRecord(decoder, c);
    }
  }

  @ParameterizedTest
  @EnumSource(Case.class)
  void trailingBytesAreUndecodableCountingThem(Case c) {
    byte[] bytes = concat(c.encode(SensorReadings.reading()), new byte[] {2, 4, 6});
    EventDecoder decoder = new EventDecoder(c.settings());

    GenericRecord envelope = decoder.decode(SOURCE, bytes);

    assertThat(reason(envelope)).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(message(envelope)).isEqualTo("3 trailing bytes after a complete SensorReading datum");
    assertDecodesTheNextRecord(decoder, c);
  }

  @ParameterizedTest
  @EnumSource(Case.class)
  void lengthPrefixFarBeyondTheRecordIsUndecodableAsTruncated(Case c) {
    byte[] header = Arrays.copyOf(c.encode(SensorReadings.reading()), c.headerBytes());
    // eventId claims 1,073,741,823 bytes of string (zig-zag varint), followed by one byte.
    byte[] bytes = concat(header, new byte[] {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 'x'});
    EventDecoder decoder = new EventDecoder(c.settings());

    GenericRecord envelope = decoder.decode(SOURCE, bytes);

    assertThat(reason(envelope)).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(message(envelope)).contains("truncated");
    assertDecodesTheNextRecord(decoder, c);
  }

  @ParameterizedTest
  @EnumSource(Case.class)
  void invalidUtf8IsUndecodableNamingTheField(Case c) {
    for (String field : List.of("eventId", "deviceId", "site", "firmware")) {
      byte[] bytes = withInvalidUtf8(c, field);
      EventDecoder decoder = new EventDecoder(c.settings());

      GenericRecord envelope = decoder.decode(SOURCE, bytes);

      assertThat(reason(envelope)).as(field).isEqualTo(DeadLetterReason.UNDECODABLE);
      assertThat(message(envelope))
          .isEqualTo("cannot decode: string field '" + field + "' is not valid UTF-8");
      assertDecodesTheNextRecord(decoder, c);
    }
  }

  @ParameterizedTest
  @EnumSource(Case.class)
  void invalidUtf8InARecordWithTrailingBytesIsReportedAsTrailingBytes(Case c) {
    byte[] bytes = concat(withInvalidUtf8(c, "site"), new byte[] {0});
    EventDecoder decoder = new EventDecoder(c.settings());

    GenericRecord envelope = decoder.decode(SOURCE, bytes);

    assertThat(reason(envelope)).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(message(envelope)).isEqualTo("1 trailing bytes after a complete SensorReading datum");
  }

  static List<Arguments> nonFiniteNumbers() {
    List<Arguments> all = new ArrayList<>();
    for (Case c : Case.values()) {
      for (String field : List.of("temperature", "humidity", "battery")) {
        for (double value :
            new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
          all.add(Arguments.of(c, field, value));
        }
      }
    }
    return all;
  }

  @ParameterizedTest(name = "{0} {1} = {2}")
  @MethodSource("nonFiniteNumbers")
  void nonFiniteNumberIsInvalidValueNamingFieldAndValue(Case c, String field, double value) {
    SensorReading written = SensorReadings.reading();
    written.put(field, value);
    EventDecoder decoder = new EventDecoder(c.settings());

    GenericRecord envelope = decoder.decode(SOURCE, c.encode(written));

    assertThat(reason(envelope)).isEqualTo(DeadLetterReason.INVALID_VALUE);
    assertThat(message(envelope))
        .isEqualTo("field '" + field + "' is " + value + "; only finite numbers are accepted");
    assertDecodesTheNextRecord(decoder, c);
  }

  @ParameterizedTest
  @EnumSource(Case.class)
  void nonFiniteNumberIsAcceptedWhenConfiguredTo(Case c) {
    SensorReading written = builder().setTemperature(Double.POSITIVE_INFINITY).build();
    EventDecoder decoder = new EventDecoder(c.settings().withRejectNonFiniteNumbers(false));

    GenericRecord envelope = decoder.decode(SOURCE, c.encode(written));

    assertThat(Envelopes.isFailed(envelope)).as(message(envelope)).isFalse();
    assertThat(Envelopes.event(envelope).get("temperature")).isEqualTo(Double.POSITIVE_INFINITY);
  }

  @ParameterizedTest
  @EnumSource(Case.class)
  void missingKeyIsReportedBeforeANonFiniteNumber(Case c) {
    SensorReading written = builder().setDeviceId("").setTemperature(Double.NaN).build();
    EventDecoder decoder = new EventDecoder(c.settings());

    GenericRecord envelope = decoder.decode(SOURCE, c.encode(written));

    assertThat(reason(envelope)).isEqualTo(DeadLetterReason.MISSING_KEY);
  }

  @ParameterizedTest
  @EnumSource(
      value = Case.class,
      names = {"SINGLE_OBJECT", "SINGLE_OBJECT_DETECTED"})
  void nonFiniteNumberInARecordOfAnOlderSchemaVersionIsInvalidValue(Case c) {
    GenericRecord v1 = SensorReadings.v1Reading();
    v1.put("humidity", Double.NaN);
    EventDecoder decoder = new EventDecoder(c.settings());

    GenericRecord envelope = decoder.decode(SOURCE, c.encode(v1));

    assertThat(reason(envelope)).isEqualTo(DeadLetterReason.INVALID_VALUE);
    assertThat(message(envelope)).contains("'humidity'").contains("NaN");
  }

  @ParameterizedTest
  @EnumSource(
      value = Case.class,
      names = {"SINGLE_OBJECT", "SINGLE_OBJECT_DETECTED"})
  void invalidUtf8InARecordOfAnOlderSchemaVersionIsUndecodableNamingTheField(Case c) {
    GenericRecord v1 = SensorReadings.v1Reading();
    v1.put("site", "caf\u00e9");
    byte[] bytes = c.encode(v1);
    bytes[indexOf(bytes, new byte[] {(byte) 0xC3, (byte) 0xA9}, c.headerBytes()) + 1] = '(';
    EventDecoder decoder = new EventDecoder(c.settings());

    GenericRecord envelope = decoder.decode(SOURCE, bytes);

    assertThat(reason(envelope)).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(message(envelope)).isEqualTo("cannot decode: string field 'site' is not valid UTF-8");
  }

  /** The reading with "café" in {@code field}, its é (C3 A9) damaged into C3 28. */
  private static byte[] withInvalidUtf8(Case c, String field) {
    SensorReading written = SensorReadings.reading();
    written.put(field, "caf\u00e9");
    byte[] bytes = c.encode(written);
    bytes[indexOf(bytes, new byte[] {(byte) 0xC3, (byte) 0xA9}, c.headerBytes()) + 1] = '(';
    return bytes;
  }

  private static void assertDecodesTheNextRecord(EventDecoder decoder, Case c) {
    SensorReading next = builder().setSite("Zürich").build();
    GenericRecord envelope = decoder.decode(SOURCE, c.encode(next));
    assertThat(Envelopes.isFailed(envelope)).as(message(envelope)).isFalse();
    assertSameReading(Envelopes.event(envelope), next, "2.1.0");
  }

  private static DeadLetterReason reason(GenericRecord envelope) {
    Object reason = envelope.get(Envelopes.FAILURE_REASON);
    return reason == null ? null : DeadLetterReason.valueOf(reason.toString());
  }

  private static String message(GenericRecord envelope) {
    Object message = envelope.get(Envelopes.FAILURE_MESSAGE);
    return message == null ? null : message.toString();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i + needle.length <= haystack.length; i++) {
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
