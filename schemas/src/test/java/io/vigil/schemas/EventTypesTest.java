package io.vigil.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.api.Test;

class EventTypesTest {

  @Test
  void everyHistoricalVersionResolvesToTheCurrentSchema() {
    for (String name : EventTypes.names()) {
      EventTypes.EventType type = EventTypes.find(name).orElseThrow();
      for (Schema writer : type.history()) {
        assertThat(
                SchemaCompatibility.checkReaderWriterCompatibility(type.current(), writer).getType())
            .as("%s: reading %s", name, writer)
            .isEqualTo(SchemaCompatibilityType.COMPATIBLE);
      }
    }
  }

  @Test
  void sensorReadingHasItsV1HistoryWithADifferentFingerprint() {
    EventTypes.EventType type = EventTypes.find("SensorReading").orElseThrow();
    assertThat(type.history()).hasSize(1);
    assertThat(type.history().get(0).getField("firmware")).isNull();
    assertThat(type.current().getField("firmware")).isNotNull();
    assertThat(org.apache.avro.SchemaNormalization.parsingFingerprint64(type.history().get(0)))
        .isNotEqualTo(org.apache.avro.SchemaNormalization.parsingFingerprint64(type.current()));
  }

  @Test
  void unknownTypeIsAbsent() {
    assertThat(EventTypes.find("NoSuchType")).isEmpty();
  }
}
