package io.vigil.functions.ingest;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.EventTypes;
import io.vigil.schemas.SourceRef;
import io.vigil.schemas.WindowAggregate;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Every schema Vigil knows, by single-object fingerprint: all versions of all event types, their
 * envelopes, and Vigil's own output records. Lets the decoder tell a record written with a schema
 * nobody knows (UNKNOWN_FINGERPRINT) from one written with a known schema of the wrong kind
 * (INCOMPATIBLE_SCHEMA), for example a dead letter fed back into an input topic.
 */
final class SchemaCatalogue {

  private static final Map<Long, Schema> BY_FINGERPRINT = build();

  private SchemaCatalogue() {}

  static Optional<Schema> find(long fingerprint) {
    return Optional.ofNullable(BY_FINGERPRINT.get(fingerprint));
  }

  static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  private static Map<Long, Schema> build() {
    Map<Long, Schema> all = new HashMap<>();
    for (String name : EventTypes.names()) {
      EventTypes.EventType type = EventTypes.find(name).orElseThrow();
      type.allVersions().forEach(schema -> all.put(fingerprint(schema), schema));
      Schema envelope = Envelopes.schema(type.current());
      all.put(fingerprint(envelope), envelope);
    }
    for (Schema own :
        new Schema[] {
          DeadLetter.getClassSchema(),
          WindowAggregate.getClassSchema(),
          SourceRef.getClassSchema(),
          DeadLetterReason.getClassSchema()
        }) {
      all.put(fingerprint(own), own);
    }
    return Map.copyOf(all);
  }
}
