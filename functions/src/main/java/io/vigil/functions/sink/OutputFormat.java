package io.vigil.functions.sink;

/** How Vigil writes its own records (aggregates, dead letters) to Kafka. */
public enum OutputFormat {
  /** Avro single-object encoding: 2-byte marker, 8-byte schema fingerprint, Avro binary. */
  AVRO,
  /** One plain JSON object per record ({@link AvroJson}). */
  JSON
}
