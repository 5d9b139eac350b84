package io.vigil.functions.event;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/** Envelopes are written and read by field position; the positions match the schema's fields. */
class EnvelopesTest {

  private static final Schema EVENT_SCHEMA = SensorReading.getClassSchema();
  private static final Schema SCHEMA = Envelopes.schema(EVENT_SCHEMA);
  private static final SourceRef SOURCE = new SourceRef("sensors", 2, 7L, 99L);

  @Test
  void fieldPositionsMatchTheSchemaDeclaredByName() {
    Map<String, Integer> positions =
        Map.of(
            Envelopes.TOPIC, Envelopes.TOPIC_POS,
            Envelopes.PARTITION, Envelopes.PARTITION_POS,
            Envelopes.OFFSET, Envelopes.OFFSET_POS,
            Envelopes.KAFKA_TIMESTAMP, Envelopes.KAFKA_TIMESTAMP_POS,
            Envelopes.PAYLOAD, Envelopes.PAYLOAD_POS,
            Envelopes.KEY, Envelopes.KEY_POS,
            Envelopes.EVENT_TIME, Envelopes.EVENT_TIME_POS,
            Envelopes.EVENT, Envelopes.EVENT_POS,
            Envelopes.FAILURE_REASON, Envelopes.FAILURE_REASON_POS,
            Envelopes.FAILURE_MESSAGE, Envelopes.FAILURE_MESSAGE_POS);
    assertThat(SCHEMA.getFields()).hasSize(positions.size());
    positions.forEach(
        (name, position) -> assertThat(SCHEMA.getField(name).pos()).as(name).isEqualTo(position));
  }

  @Test
  void validEnvelopeHoldsItsValuesUnderTheirFieldNames() {
    GenericRecord event = new GenericData.Record(EVENT_SCHEMA);
    byte[] payload = {1, 2, 3};
    GenericRecord envelope = Envelopes.valid(SCHEMA, SOURCE, payload, "d1", 1_000L, event);

    assertThat(envelope.get(Envelopes.TOPIC)).isEqualTo("sensors");
    assertThat(envelope.get(Envelopes.PARTITION)).isEqualTo(2);
    assertThat(envelope.get(Envelopes.OFFSET)).isEqualTo(7L);
    assertThat(envelope.get(Envelopes.KAFKA_TIMESTAMP)).isEqualTo(99L);
    assertThat(envelope.get(Envelopes.PAYLOAD)).isEqualTo(ByteBuffer.wrap(payload));
    assertThat(envelope.get(Envelopes.KEY)).isEqualTo("d1");
    assertThat(envelope.get(Envelopes.EVENT_TIME)).isEqualTo(1_000L);
    assertThat(envelope.get(Envelopes.EVENT)).isSameAs(event);
    assertThat(envelope.get(Envelopes.FAILURE_REASON)).isNull();
    assertThat(Envelopes.isFailed(envelope)).isFalse();
    assertThat(Envelopes.key(envelope)).isEqualTo("d1");
    assertThat(Envelopes.eventTime(envelope)).isEqualTo(1_000L);
    assertThat(Envelopes.event(envelope)).isSameAs(event);
    assertThat(Envelopes.source(envelope)).isEqualTo(SOURCE);
    assertThat(Envelopes.payload(envelope)).isEqualTo(ByteBuffer.wrap(payload));
  }

  @Test
  void failedEnvelopeHoldsReasonAndMessageUnderTheirFieldNamesAndBecomesADeadLetter() {
    GenericRecord envelope =
        Envelopes.failed(SCHEMA, SOURCE, new byte[] {4}, DeadLetterReason.UNDECODABLE, "bad");

    assertThat(envelope.get(Envelopes.FAILURE_REASON)).isEqualTo("UNDECODABLE");
    assertThat(envelope.get(Envelopes.FAILURE_MESSAGE)).isEqualTo("bad");
    assertThat(envelope.get(Envelopes.EVENT)).isNull();
    assertThat(Envelopes.isFailed(envelope)).isTrue();
    DeadLetter deadLetter = Envelopes.toDeadLetter(envelope, "SensorReading", "ingest");
    assertThat(deadLetter.getReason()).isEqualTo(DeadLetterReason.UNDECODABLE);
    assertThat(deadLetter.getMessage()).isEqualTo("bad");
    assertThat(deadLetter.getSource()).isEqualTo(SOURCE);
    assertThat(deadLetter.getPayload()).isEqualTo(ByteBuffer.wrap(new byte[] {4}));
  }
}
