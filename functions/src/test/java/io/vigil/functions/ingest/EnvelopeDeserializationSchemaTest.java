package io.vigil.functions.ingest;

import static io.vigil.functions.ingest.SensorReadings.assertSameReading;
import static io.vigil.functions.ingest.SensorReadings.reading;
import static io.vigil.functions.ingest.SensorReadings.settings;
import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class EnvelopeDeserializationSchemaTest {

  private final EnvelopeDeserializationSchema schema = new EnvelopeDeserializationSchema(settings());

  @Test
  void decodesRecordWithItsKafkaCoordinates() throws Exception {
    byte[] value = EventEncoders.singleObject(reading());
    GenericRecord envelope = deserialize(record("sensors", 2, 17L, 1_234L, value));

    assertThat(Envelopes.source(envelope)).isEqualTo(new SourceRef("sensors", 2, 17L, 1_234L));
    assertSameReading(Envelopes.event(envelope), reading(), "2.1.0");
  }

  @Test
  void recordWithoutTimestampHasNullKafkaTimestampAndBadBytesBecomeFailedEnvelope()
      throws Exception {
    GenericRecord envelope = deserialize(record("sensors", 0, 5L, -1L, new byte[] {1, 2, 3}));

    assertThat(Envelopes.source(envelope)).isEqualTo(new SourceRef("sensors", 0, 5L, null));
    assertThat(Envelopes.isFailed(envelope)).isTrue();
  }

  @Test
  void producesAvroEnvelopeTypeOfTheCurrentSchema() {
    assertThat(schema.getProducedType())
        .isEqualTo(Envelopes.typeInfo(SensorReading.getClassSchema()));
  }

  private GenericRecord deserialize(ConsumerRecord<byte[], byte[]> record) throws Exception {
    List<GenericRecord> out = new ArrayList<>();
    schema.deserialize(
        record,
        new Collector<>() {
          @Override
          public void collect(GenericRecord envelope) {
            out.add(envelope);
          }

          @Override
          public void close() {}
        });
    assertThat(out).hasSize(1);
    return out.get(0);
  }

  private static ConsumerRecord<byte[], byte[]> record(
      String topic, int partition, long offset, long timestamp, byte[] value) {
    return new ConsumerRecord<>(
        topic,
        partition,
        offset,
        timestamp,
        timestamp < 0 ? TimestampType.NO_TIMESTAMP_TYPE : TimestampType.CREATE_TIME,
        0,
        value.length,
        null,
        value,
        new RecordHeaders(),
        Optional.empty());
  }
}
