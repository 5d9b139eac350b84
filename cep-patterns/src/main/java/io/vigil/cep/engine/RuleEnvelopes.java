package io.vigil.cep.engine;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.SourceRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Envelope schemas for the rule engine. A rule may read several event types (a login then a
 * payout, an anomaly score then a reading), so the engine's input is an envelope whose {@code
 * event} is a union of them; with one event type this is exactly {@link Envelopes#schema}. All
 * {@link Envelopes} accessors work on both.
 *
 * <p>{@link #rewrap} moves a job's envelopes into such a union envelope, and {@link #score} wraps
 * an {@link AnomalyScore}: its key is the score's {@code key} (the entity key of a detector keyed
 * by the job's key), its event time the scored event's, and its source coordinates the scored
 * event's, so an alert's matched score points at the record that was scored.
 */
public final class RuleEnvelopes {

  /** The topic a score's envelope names when the scored event had no source coordinates. */
  public static final String SCORES_TOPIC = "scores";

  private RuleEnvelopes() {}

  /** The envelope schema carrying any of {@code eventSchemas} (deterministic for the same list). */
  public static Schema schema(List<Schema> eventSchemas) {
    if (eventSchemas.size() == 1) {
      return Envelopes.schema(eventSchemas.get(0));
    }
    List<Schema> branches = new ArrayList<>();
    branches.add(Schema.create(Schema.Type.NULL));
    branches.addAll(eventSchemas);
    StringBuilder name = new StringBuilder();
    for (Schema s : eventSchemas) {
      name.append(s.getName());
    }
    return SchemaBuilder.record(name + "Envelope")
        .namespace("io.vigil.envelope")
        .fields()
        .requiredString(Envelopes.TOPIC)
        .requiredInt(Envelopes.PARTITION)
        .requiredLong(Envelopes.OFFSET)
        .optionalLong(Envelopes.KAFKA_TIMESTAMP)
        .requiredBytes(Envelopes.PAYLOAD)
        .optionalString(Envelopes.KEY)
        .optionalLong(Envelopes.EVENT_TIME)
        .name(Envelopes.EVENT)
        .type(Schema.createUnion(branches))
        .withDefault(null)
        .optionalString(Envelopes.FAILURE_REASON)
        .optionalString(Envelopes.FAILURE_MESSAGE)
        .endRecord();
  }

  /**
   * {@code envelope} (a valid envelope of one of {@code target}'s event types) as an envelope of
   * {@code target}; the same object when it already is one.
   */
  public static GenericRecord rewrap(Schema target, GenericRecord envelope) {
    if (envelope.getSchema().equals(target)) {
      return envelope;
    }
    GenericRecord out = new GenericData.Record(target);
    for (Schema.Field f : target.getFields()) {
      out.put(f.pos(), envelope.get(f.name()));
    }
    return out;
  }

  /**
   * A valid envelope of {@code target} (whose union must include AnomalyScore) carrying {@code
   * score} as a generic record; its payload is the score's Avro single-object encoding, so a
   * late score becomes a complete dead letter.
   */
  public static GenericRecord score(Schema target, AnomalyScore score) {
    SourceRef source = score.getSource() != null ? score.getSource() : new SourceRef(SCORES_TOPIC, 0, 0L, null);
    byte[] payload;
    try {
      ByteBuffer encoded = score.toByteBuffer();
      payload = new byte[encoded.remaining()];
      encoded.get(payload);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode an AnomalyScore", e);
    }
    GenericRecord event = (GenericRecord) GenericData.get().deepCopy(AnomalyScore.getClassSchema(), score);
    return Envelopes.valid(target, source, payload, score.getKey(), score.getEventTime(), event);
  }

  /** The event schemas an envelope schema carries. */
  public static List<Schema> eventSchemas(Schema envelopeSchema) {
    List<Schema> out = new ArrayList<>();
    for (Schema s : envelopeSchema.getField(Envelopes.EVENT).schema().getTypes()) {
      if (s.getType() == Schema.Type.RECORD) {
        out.add(s);
      }
    }
    return out;
  }
}
