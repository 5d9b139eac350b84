package io.vigil.functions.event.avro;

import java.io.IOException;
import java.io.ObjectStreamException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A serializer for Avro {@link GenericRecord}s of one record schema, compiled once into per-field
 * codecs ({@link Codec}): no field lookup by name, no union resolution by name, no Avro encoder
 * per record. Meant for records sent between operators; its wire format is Vigil's own (see
 * {@link Codec}), not Avro's binary encoding, so it is no format for data kept across versions of
 * the schema: its snapshot declares any other schema incompatible.
 *
 * <p>Contract: {@code deserialize(serialize(r))} equals, with the same Java classes, what Flink's
 * {@code AvroSerializer} for the same schema returns for {@code r} (the reader's choices are listed
 * in {@link Codec}). A record that does not fit the schema fails with an {@link
 * IllegalArgumentException} naming the field path and the expected and actual types.
 *
 * <p>Stateless (the codecs are immutable), so {@link #duplicate()} returns this instance.
 */
public final class CompiledAvroSerializer extends TypeSerializer<GenericRecord> {

  private static final long serialVersionUID = 1L;

  /** Avro without conversions, as Flink's AvroSerializer copies generic records. */
  private static final GenericData DATA = new GenericData();

  private final Schema schema;
  private final transient Codec codec;

  public CompiledAvroSerializer(Schema schema) {
    if (schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException("Not a record schema: " + schema);
    }
    this.schema = schema;
    this.codec = Codec.compile(schema);
  }

  public Schema schema() {
    return schema;
  }

  /** Compiles the codecs again after Java deserialization (they are not serializable). */
  private Object readResolve() throws ObjectStreamException {
    return new CompiledAvroSerializer(schema);
  }

  @Override
  public boolean isImmutableType() {
    return false;
  }

  @Override
  public TypeSerializer<GenericRecord> duplicate() {
    return this;
  }

  /** An empty record of the schema (all fields null). */
  @Override
  public GenericRecord createInstance() {
    return new GenericData.Record(schema);
  }

  /** A deep copy, by Avro's {@link GenericData#deepCopy}. */
  @Override
  public GenericRecord copy(GenericRecord from) {
    return DATA.deepCopy(schema, from);
  }

  @Override
  public GenericRecord copy(GenericRecord from, GenericRecord reuse) {
    return copy(from);
  }

  @Override
  public int getLength() {
    return -1;
  }

  @Override
  public void serialize(GenericRecord record, DataOutputView target) throws IOException {
    try {
      codec.write(record, target);
    } catch (Codec.WrongTypeException e) {
      throw new IllegalArgumentException(
          "Cannot serialize a record as " + schema.getFullName() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public GenericRecord deserialize(DataInputView source) throws IOException {
    return (GenericRecord) codec.read(source);
  }

  /** Reads a new record: records are small and reuse would have to clear nested containers. */
  @Override
  public GenericRecord deserialize(GenericRecord reuse, DataInputView source) throws IOException {
    return deserialize(source);
  }

  /** Copies one record by reading and writing it: the format has no skippable framing. */
  @Override
  public void copy(DataInputView source, DataOutputView target) throws IOException {
    codec.write(codec.read(source), target);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CompiledAvroSerializer other && schema.equals(other.schema);
  }

  @Override
  public int hashCode() {
    return schema.hashCode();
  }

  @Override
  public TypeSerializerSnapshot<GenericRecord> snapshotConfiguration() {
    return new CompiledAvroSerializerSnapshot(schema);
  }

  @Override
  public String toString() {
    return "CompiledAvroSerializer(" + schema.getFullName() + ")";
  }
}
