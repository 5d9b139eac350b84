package io.vigil.functions.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Serialises Vigil's Avro records for KafkaSink, keyed so that all records of one group (one
 * aggregate window key, one source partition for dead letters) land in one Kafka partition.
 *
 * <p>Records carry no explicit timestamp, so the producer's wall-clock time is used: event-time
 * stamps on replayed history would fall outside the topic's retention and be deleted at once.
 */
public final class AvroKafkaSerializer<T extends SpecificRecordBase>
    implements KafkaRecordSerializationSchema<T> {

  private static final long serialVersionUID = 1L;

  private final String topic;
  private final OutputFormat format;
  private final SerializableFunction<T, String> keyOf;
  private transient BinaryMessageEncoder<T> encoder;

  public AvroKafkaSerializer(String topic, OutputFormat format, SerializableFunction<T, String> keyOf) {
    this.topic = topic;
    this.format = format;
    this.keyOf = keyOf;
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(
      T element, KafkaSinkContext context, Long timestamp) {
    byte[] key = keyOf.apply(element).getBytes(StandardCharsets.UTF_8);
    return new ProducerRecord<>(topic, null, null, key, value(element));
  }

  private byte[] value(T element) {
    if (format == OutputFormat.JSON) {
      return AvroJson.toJson(element).getBytes(StandardCharsets.UTF_8);
    }
    if (encoder == null) {
      encoder = new BinaryMessageEncoder<>(SpecificData.getForSchema(element.getSchema()), element.getSchema());
    }
    try {
      ByteBuffer buffer = encoder.encode(element);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode " + element.getSchema().getFullName(), e);
    }
  }
}
