package io.vigil.functions.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

class DecodeSettingsTest {

  @Test
  void defaultsAreAutoFormatOneMebibyteAndThisCenturysEventTimes() {
    DecodeSettings settings = DecodeSettings.defaults("SensorReading", "deviceId", "eventTime");
    assertThat(settings.format()).isEqualTo(WireFormat.AUTO);
    assertThat(settings.maxRecordBytes()).isEqualTo(1 << 20);
    assertThat(settings.minEventTime())
        .isEqualTo(Instant.parse("2000-01-01T00:00:00Z").toEpochMilli());
    assertThat(settings.maxEventTime())
        .isEqualTo(Instant.parse("2100-01-01T00:00:00Z").toEpochMilli());
    assertThat(settings.rejectNonFiniteNumbers()).isTrue();
  }

  @Test
  void acceptsEnumKeyAndSurvivesJavaSerialization() throws Exception {
    DecodeSettings settings =
        DecodeSettings.defaults("SensorReading", "status", "eventTime").withFormat(WireFormat.JSON);
    assertThat(InstantiationUtil.clone(settings)).isEqualTo(settings);
  }

  @Test
  void rejectsUnknownEventType() {
    assertThatThrownBy(() -> DecodeSettings.defaults("Nope", "deviceId", "eventTime"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'Nope'")
        .hasMessageContaining("SensorReading");
  }

  @Test
  void rejectsKeyFieldThatIsNotInTheSchema() {
    assertThatThrownBy(() -> DecodeSettings.defaults("SensorReading", "device", "eventTime"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key field 'device' is not a field");
  }

  @Test
  void rejectsDoubleKeyField() {
    assertThatThrownBy(() -> DecodeSettings.defaults("SensorReading", "temperature", "eventTime"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'temperature'")
        .hasMessageContaining("double");
  }

  @Test
  void rejectsStringEventTimeField() {
    assertThatThrownBy(() -> DecodeSettings.defaults("SensorReading", "deviceId", "site"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("event-time field 'site'")
        .hasMessageContaining("string");
  }

  @Test
  void rejectsMissingEventTimeField() {
    assertThatThrownBy(() -> DecodeSettings.defaults("SensorReading", "deviceId", "time"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("event-time field 'time' is not a field");
  }

  @Test
  void rejectsInvertedEventTimeBoundsAndNonPositiveSize() {
    DecodeSettings settings = DecodeSettings.defaults("SensorReading", "deviceId", "eventTime");
    assertThatThrownBy(() -> settings.withEventTimeBounds(10, 9))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("minEventTime");
    assertThatThrownBy(() -> settings.withMaxRecordBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxRecordBytes");
  }
}
