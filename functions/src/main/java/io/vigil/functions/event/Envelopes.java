package io.vigil.functions.event;

import io.vigil.functions.event.avro.CompiledAvroTypeInfo;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SourceRef;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * The envelope: what flows through a Vigil job between the source and the sinks.
 *
 * <p>An envelope wraps one input record of a given event type together with where it came from
 * (topic, partition, offset, Kafka timestamp) and its original bytes, so that any later stage (for
 * example a window that finds the event too late) can still produce a complete {@link DeadLetter}.
 * It is either <em>valid</em> ({@code event}, {@code key} and {@code eventTime} set) or
 * <em>failed</em> ({@code failureReason} and {@code failureMessage} set, the rest possibly null).
 *
 * <p>The envelope schema is derived from the event schema at graph-build time, and envelopes are
 * Avro {@link GenericRecord}s serialised between operators by Vigil's compiled Avro serializer
 * ({@link #typeInfo}), never by Kryo.
 */
public final class Envelopes {

  public static final String TOPIC = "topic";
  public static final String PARTITION = "partition";
  public static final String OFFSET = "offset";
  public static final String KAFKA_TIMESTAMP = "kafkaTimestamp";
  public static final String PAYLOAD = "payload";
  public static final String KEY = "key";
  public static final String EVENT_TIME = "eventTime";
  public static final String EVENT = "event";
  public static final String FAILURE_REASON = "failureReason";
  public static final String FAILURE_MESSAGE = "failureMessage";

  /*
   * Field positions in the envelope schema, in the order schema() declares the fields: envelopes
   * are written and read by position, which spares a field lookup by name per access on every
   * record. EnvelopesTest checks that they match.
   */
  static final int TOPIC_POS = 0;
  static final int PARTITION_POS = 1;
  static final int OFFSET_POS = 2;
  static final int KAFKA_TIMESTAMP_POS = 3;
  static final int PAYLOAD_POS = 4;
  static final int KEY_POS = 5;
  static final int EVENT_TIME_POS = 6;
  static final int EVENT_POS = 7;
  static final int FAILURE_REASON_POS = 8;
  static final int FAILURE_MESSAGE_POS = 9;

  private Envelopes() {}

  /**
   * The envelope schema for events of {@code eventSchema}. Deterministic: same input, same schema.
   * The order of its fields is part of the contract: this class reads and writes envelopes by field
   * position, so an envelope schema built elsewhere (one carrying several event types) must declare
   * the same fields in the same order.
   */
  public static Schema schema(Schema eventSchema) {
    return SchemaBuilder.record(eventSchema.getName() + "Envelope")
        .namespace("io.vigil.envelope")
        .fields()
        .requiredString(TOPIC)
        .requiredInt(PARTITION)
        .requiredLong(OFFSET)
        .optionalLong(KAFKA_TIMESTAMP)
        .requiredBytes(PAYLOAD)
        .optionalString(KEY)
        .optionalLong(EVENT_TIME)
        .name(EVENT)
        .type(Schema.createUnion(List.of(Schema.create(Schema.Type.NULL), eventSchema)))
        .withDefault(null)
        .optionalString(FAILURE_REASON)
        .optionalString(FAILURE_MESSAGE)
        .endRecord();
  }

  /**
   * Flink type information for envelopes of {@code eventSchema}, for the network: {@link
   * CompiledAvroTypeInfo}, whose serializer is compiled once per schema (each envelope crosses
   * several edges, and Flink's generic Avro serializer resolves every field and union by name).
   * Not for state: state keeps Flink's Avro serializer so that savepoints stay readable.
   */
  public static TypeInformation<GenericRecord> typeInfo(Schema eventSchema) {
    return new CompiledAvroTypeInfo(schema(eventSchema));
  }

  /** A valid envelope. */
  public static GenericRecord valid(
      Schema envelopeSchema,
      SourceRef source,
      byte[] payload,
      String key,
      long eventTime,
      GenericRecord event) {
    GenericRecord envelope = withSource(envelopeSchema, source, payload);
    envelope.put(KEY_POS, key);
    envelope.put(EVENT_TIME_POS, eventTime);
    envelope.put(EVENT_POS, event);
    return envelope;
  }

  /** A failed envelope: the record could not become a valid event. */
  public static GenericRecord failed(
      Schema envelopeSchema,
      SourceRef source,
      byte[] payload,
      DeadLetterReason reason,
      String message) {
    GenericRecord envelope = withSource(envelopeSchema, source, payload);
    envelope.put(FAILURE_REASON_POS, reason.name());
    envelope.put(FAILURE_MESSAGE_POS, message);
    return envelope;
  }

  private static GenericRecord withSource(Schema envelopeSchema, SourceRef source, byte[] payload) {
    GenericRecord envelope = new GenericData.Record(envelopeSchema);
    envelope.put(TOPIC_POS, source.getTopic());
    envelope.put(PARTITION_POS, source.getPartition());
    envelope.put(OFFSET_POS, source.getOffset());
    envelope.put(KAFKA_TIMESTAMP_POS, source.getKafkaTimestamp());
    envelope.put(PAYLOAD_POS, ByteBuffer.wrap(payload));
    return envelope;
  }

  public static boolean isFailed(GenericRecord envelope) {
    return envelope.get(FAILURE_REASON_POS) != null;
  }

  /** The decoded event; only for valid envelopes. */
  public static GenericRecord event(GenericRecord envelope) {
    return (GenericRecord) envelope.get(EVENT_POS);
  }

  /** The entity key (the spec's key field as a string); only for valid envelopes. */
  public static String key(GenericRecord envelope) {
    Object key = envelope.get(KEY_POS);
    return key == null ? null : key.toString();
  }

  /** Event time in epoch millis; only for valid envelopes. */
  public static long eventTime(GenericRecord envelope) {
    return (Long) envelope.get(EVENT_TIME_POS);
  }

  public static SourceRef source(GenericRecord envelope) {
    return new SourceRef(
        envelope.get(TOPIC_POS).toString(),
        (Integer) envelope.get(PARTITION_POS),
        (Long) envelope.get(OFFSET_POS),
        (Long) envelope.get(KAFKA_TIMESTAMP_POS));
  }

  /** The original record bytes. */
  public static ByteBuffer payload(GenericRecord envelope) {
    return ((ByteBuffer) envelope.get(PAYLOAD_POS)).duplicate();
  }

  /** The dead letter for a failed envelope, rejected at {@code stage}. */
  public static DeadLetter toDeadLetter(GenericRecord envelope, String eventType, String stage) {
    return toDeadLetter(
        envelope,
        eventType,
        stage,
        DeadLetterReason.valueOf(envelope.get(FAILURE_REASON_POS).toString()),
        envelope.get(FAILURE_MESSAGE_POS).toString());
  }

  /** A dead letter for any envelope, valid or not, with the given reason and message. */
  public static DeadLetter toDeadLetter(
      GenericRecord envelope,
      String eventType,
      String stage,
      DeadLetterReason reason,
      String message) {
    return deadLetterBuilder(envelope, eventType, stage, reason, message).build();
  }

  /** A LATE_EVENT dead letter: a valid event that missed the window [windowStart, windowEnd). */
  public static DeadLetter toLateDeadLetter(
      GenericRecord envelope,
      String eventType,
      String aggregation,
      long windowStart,
      long windowEnd,
      String message) {
    return deadLetterBuilder(
            envelope, eventType, aggregation, DeadLetterReason.LATE_EVENT, message)
        .setWindowStart(windowStart)
        .setWindowEnd(windowEnd)
        .build();
  }

  private static DeadLetter.Builder deadLetterBuilder(
      GenericRecord envelope,
      String eventType,
      String stage,
      DeadLetterReason reason,
      String message) {
    return DeadLetter.newBuilder()
        .setReason(reason)
        .setMessage(message)
        .setEventType(eventType)
        .setSource(source(envelope))
        .setPayload(payload(envelope))
        .setStage(stage);
  }
}
