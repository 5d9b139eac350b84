package io.vigil.functions.ingest;

import static io.vigil.functions.ingest.SensorReadings.SOURCE;
import static io.vigil.functions.ingest.SensorReadings.assertSameReading;
import static io.vigil.functions.ingest.SensorReadings.builder;
import static io.vigil.functions.ingest.SensorReadings.settings;
import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

/** Hostile and damaged input: the decoder always answers with an envelope, never an exception. */
class EventDecoderFuzzTest {

  private static final SensorReading ORIGINAL = builder().setSite("Zürich").build();

  private final EventDecoder decoder = new EventDecoder(settings());
  private final Random random = new Random(20240611L);

  @Test
  void randomBytesAlwaysBecomeWellFormedEnvelopes() {
    for (int i = 0; i < 2_000; i++) {
      byte[] bytes = new byte[random.nextInt(200)];
      random.nextBytes(bytes);
      GenericRecord envelope = decoder.decode(SOURCE, bytes);
      assertWellFormed(envelope, bytes);
    }
  }

  @Test
  void randomFingerprintsAreUnknown() {
    for (int i = 0; i < 200; i++) {
      byte[] bytes = new byte[10 + random.nextInt(100)];
      random.nextBytes(bytes);
      bytes[0] = (byte) 0xC3;
      bytes[1] = 0x01;
      GenericRecord envelope = decoder.decode(SOURCE, bytes);
      assertWellFormed(envelope, bytes);
      assertThat(reason(envelope)).isEqualTo(DeadLetterReason.UNKNOWN_FINGERPRINT);
    }
  }

  @Test
  void unmodifiedEncodingsDecodeToTheOriginal() {
    for (byte[] bytes : encodings()) {
      GenericRecord envelope = decoder.decode(SOURCE, bytes);
      assertThat(Envelopes.isFailed(envelope)).as(message(envelope)).isFalse();
      assertSameReading(Envelopes.event(envelope), ORIGINAL, "2.1.0");
    }
  }

  @Test
  void everyStrictPrefixOfAnEncodingIsUndecodable() {
    for (byte[] bytes : encodings()) {
      for (int length = 1; length < bytes.length; length++) {
        byte[] prefix = Arrays.copyOf(bytes, length);
        GenericRecord envelope = decoder.decode(SOURCE, prefix);
        assertWellFormed(envelope, prefix);
        assertThat(reason(envelope)).as("prefix of %d bytes", length).isIn(
            DeadLetterReason.UNDECODABLE,
            // A single-object prefix shorter than its header may lose the marker.
            DeadLetterReason.UNKNOWN_FINGERPRINT);
      }
    }
  }

  @Test
  void bitFlipsAndSplicesNeverThrowAndValidResultsConformToTheSchema() {
    List<byte[]> originals = encodings();
    for (int i = 0; i < 3_000; i++) {
      byte[] bytes = originals.get(i % originals.size()).clone();
      int flips = 1 + random.nextInt(3);
      for (int f = 0; f < flips; f++) {
        bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
      }
      if (random.nextInt(4) == 0) {
        byte[] spliced = new byte[bytes.length + 1 + random.nextInt(8)];
        random.nextBytes(spliced);
        int at = random.nextInt(bytes.length);
        System.arraycopy(bytes, 0, spliced, 0, at);
        System.arraycopy(bytes, at, spliced, spliced.length - (bytes.length - at), bytes.length - at);
        bytes = spliced;
      }
      GenericRecord envelope = decoder.decode(SOURCE, bytes);
      assertWellFormed(envelope, bytes);
    }
  }

  @Test
  void decoderSurvivesJavaSerializationAndStillDecodes() throws Exception {
    EventDecoder copy = InstantiationUtil.clone(decoder);
    GenericRecord envelope = copy.decode(SOURCE, EventEncoders.singleObject(ORIGINAL));
    assertSameReading(Envelopes.event(envelope), ORIGINAL, "2.1.0");
  }

  private static List<byte[]> encodings() {
    return List.of(
        EventEncoders.singleObject(ORIGINAL),
        EventEncoders.avroBinary(ORIGINAL),
        EventEncoders.json(ORIGINAL));
  }

  /**
   * Either failed with a reason and a message, or valid with an event that conforms to the current
   * schema and passes the validation rules (checked here independently of the decoder); either
   * way the payload is the input byte for byte.
   */
  private static void assertWellFormed(GenericRecord envelope, byte[] input) {
    assertThat(Envelopes.payload(envelope)).isEqualTo(ByteBuffer.wrap(input));
    assertThat(Envelopes.source(envelope)).isEqualTo(SOURCE);
    if (Envelopes.isFailed(envelope)) {
      assertThat(reason(envelope)).isNotNull();
      assertThat(message(envelope)).isNotBlank();
      assertThat(Envelopes.event(envelope)).isNull();
      return;
    }
    GenericRecord event = Envelopes.event(envelope);
    assertThat(GenericData.get().validate(SensorReading.getClassSchema(), event)).isTrue();
    String deviceId = event.get("deviceId").toString();
    assertThat(deviceId).isNotEmpty().isEqualTo(Envelopes.key(envelope));
    long eventTime = (Long) event.get("eventTime");
    assertThat(Envelopes.eventTime(envelope)).isEqualTo(eventTime);
    assertThat(eventTime)
        .isBetween(DecodeSettings.DEFAULT_MIN_EVENT_TIME, DecodeSettings.DEFAULT_MAX_EVENT_TIME);
    for (String field : List.of("temperature", "humidity", "battery")) {
      assertThat(Double.isFinite((Double) event.get(field))).as(field).isTrue();
    }
    for (String field : List.of("eventId", "deviceId", "site", "firmware")) {
      assertThat(event.get(field).toString()).as(field).doesNotContain("\uFFFD");
    }
  }

  private static DeadLetterReason reason(GenericRecord envelope) {
    Object reason = envelope.get(Envelopes.FAILURE_REASON);
    return reason == null ? null : DeadLetterReason.valueOf(reason.toString());
  }

  private static String message(GenericRecord envelope) {
    Object message = envelope.get(Envelopes.FAILURE_MESSAGE);
    return message == null ? null : message.toString();
  }
}
