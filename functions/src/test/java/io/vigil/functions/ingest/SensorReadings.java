package io.vigil.functions.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.EventTypes;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.time.Instant;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;

/** Test fixtures: sensor readings in their current and historical schemas. */
final class SensorReadings {

  static final long EVENT_TIME = 1_700_000_000_000L;
  static final SourceRef SOURCE = new SourceRef("sensors", 3, 42L, 1_700_000_000_500L);

  private SensorReadings() {}

  static SensorReading.Builder builder() {
    return SensorReading.newBuilder()
        .setEventId("e1")
        .setDeviceId("d1")
        .setSite("plant-a")
        .setEventTime(Instant.ofEpochMilli(EVENT_TIME))
        .setTemperature(21.5)
        .setHumidity(40.25)
        .setBattery(88.0)
        .setStatus(DeviceStatus.WARN)
        .setFirmware("2.1.0");
  }

  static SensorReading reading() {
    return builder().build();
  }

  static DecodeSettings settings() {
    return DecodeSettings.defaults("SensorReading", "deviceId", "eventTime");
  }

  static Schema v1Schema() {
    return EventTypes.find("SensorReading").orElseThrow().history().get(0);
  }

  /** A reading written by a v1 producer: no firmware field. */
  static GenericRecord v1Reading() {
    Schema v1 = v1Schema();
    GenericData.Record record = new GenericData.Record(v1);
    record.put("eventId", "e-v1");
    record.put("deviceId", "d-old");
    record.put("site", "plant-b");
    record.put("eventTime", EVENT_TIME + 1);
    record.put("temperature", -3.75);
    record.put("humidity", 99.5);
    record.put("battery", 12.0);
    record.put("status", new GenericData.EnumSymbol(v1.getField("status").schema(), "FAULT"));
    return record;
  }

  /**
   * Asserts that {@code decoded} holds, field by field of the current schema, the values of {@code
   * expected}, compared through their text form so that String/Utf8 and enum representations do
   * not matter; the field {@code expected} may lack (firmware) must hold {@code firmware}.
   */
  static void assertSameReading(GenericRecord decoded, IndexedRecord expected, String firmware) {
    assertThat(decoded.getSchema()).isEqualTo(SensorReading.getClassSchema());
    for (Schema.Field field : SensorReading.getClassSchema().getFields()) {
      Schema.Field written = expected.getSchema().getField(field.name());
      Object want = written == null ? firmware : expected.get(written.pos());
      if (want instanceof Instant instant) {
        want = instant.toEpochMilli();
      }
      assertThat(String.valueOf(decoded.get(field.name())))
          .as("field %s", field.name())
          .isEqualTo(String.valueOf(want));
    }
  }
}
