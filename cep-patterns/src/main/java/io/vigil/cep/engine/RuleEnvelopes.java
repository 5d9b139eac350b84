package io.vigil.cep.engine;

import io.vigil.functions.event.Envelopes;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;

/**
 * Envelope schemas for the rule engine. A rule may read several event types (a login then a
 * payout), so the engine's input is an envelope whose {@code event} is a union of them; with one
 * event type this is exactly {@link Envelopes#schema}. All {@link Envelopes} accessors work on
 * both.
 */
public final class RuleEnvelopes {

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
