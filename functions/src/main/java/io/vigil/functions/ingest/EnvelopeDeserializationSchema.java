package io.vigil.functions.ingest;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.SourceRef;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes each Kafka record into exactly one envelope (valid or failed) with its topic, partition,
 * offset and timestamp. Never throws on bad bytes, so a poison record cannot stall the source.
 *
 * <p>Decoding happens in the source, not in an operator after it, on purpose: the source can then
 * assign event-time timestamps per partition split and emit per-partition watermarks.
 */
public final class EnvelopeDeserializationSchema
    implements KafkaRecordDeserializationSchema<GenericRecord> {

  private static final long serialVersionUID = 1L;

  private final EventDecoder decoder;

  public EnvelopeDeserializationSchema(DecodeSettings settings) {
    this.decoder = new EventDecoder(settings);
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<GenericRecord> out) {
    // Kafka reports "no timestamp" as a negative value (RecordBatch.NO_TIMESTAMP).
    Long timestamp = record.timestamp() >= 0 ? record.timestamp() : null;
    SourceRef source =
        new SourceRef(record.topic(), record.partition(), record.offset(), timestamp);
    out.collect(decoder.decode(source, record.value()));
  }

  @Override
  public TypeInformation<GenericRecord> getProducedType() {
    return Envelopes.typeInfo(decoder.settings().eventType().current());
  }
}
