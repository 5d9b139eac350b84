package io.vigil.functions.ingest;

/** How the bytes of one input record encode an event. */
public enum WireFormat {
  /**
   * Detect per record: bytes starting with the Avro single-object marker {@code 0xC3 0x01} are
   * {@link #AVRO_SINGLE_OBJECT}; bytes whose first non-whitespace byte is <code>'{'</code> are
   * {@link #JSON}; anything else is {@link #AVRO_BINARY} of the current schema. Unambiguous for
   * records whose first field is a string or bytes: neither marker is a valid Avro length prefix.
   */
  AUTO,
  /** Avro single-object encoding: marker, 8-byte schema fingerprint, then the binary datum. */
  AVRO_SINGLE_OBJECT,
  /** A bare Avro binary datum written with the event type's current schema. */
  AVRO_BINARY,
  /** A plain JSON object, as people write it: no union wrappers, enums as strings. */
  JSON
}
