package io.vigil.functions.window;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/** Builds valid {@code SensorReading} envelopes for window tests; offsets count up per instance. */
final class Readings {

  static final String EVENT_TYPE = "SensorReading";
  static final Schema ENVELOPE_SCHEMA = Envelopes.schema(SensorReading.getClassSchema());

  private final AtomicLong offset = new AtomicLong();

  /** A reading of {@code deviceId} at site "s1" with the given time and temperature. */
  GenericRecord reading(String deviceId, long eventTime, double temperature) {
    return reading(deviceId, "s1", eventTime, temperature);
  }

  GenericRecord reading(String deviceId, String site, long eventTime, double temperature) {
    Schema schema = SensorReading.getClassSchema();
    GenericRecord event = new GenericData.Record(schema);
    event.put("eventId", "e" + offset.get());
    event.put("deviceId", deviceId);
    event.put("site", site);
    event.put("eventTime", eventTime);
    event.put("temperature", temperature);
    event.put("humidity", 50.0);
    event.put("battery", 90.0);
    event.put("status", new GenericData.EnumSymbol(schema.getField("status").schema(), "OK"));
    event.put("firmware", "v2");
    return envelope(ENVELOPE_SCHEMA, deviceId, eventTime, event);
  }

  /** A valid envelope around any event record; the payload is unique per envelope. */
  GenericRecord envelope(Schema envelopeSchema, String key, long eventTime, GenericRecord event) {
    long n = offset.getAndIncrement();
    return Envelopes.valid(
        envelopeSchema, new SourceRef("sensors", 0, n, null), payloadOf(n), key, eventTime, event);
  }

  /** The payload of the envelope at {@code offset}. */
  static byte[] payloadOf(long offset) {
    return ("payload-" + offset).getBytes(StandardCharsets.UTF_8);
  }
}
