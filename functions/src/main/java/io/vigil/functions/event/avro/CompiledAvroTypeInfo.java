package io.vigil.functions.event.avro;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * Type information for Avro {@link GenericRecord}s of one record schema, serialised by {@link
 * CompiledAvroSerializer} (never by Kryo). For records exchanged between operators, not for state:
 * see the serializer's notes on its format. Not a key type, like Flink's {@code
 * GenericRecordAvroTypeInfo}.
 */
public final class CompiledAvroTypeInfo extends TypeInformation<GenericRecord> {

  private static final long serialVersionUID = 1L;

  private final Schema schema;

  public CompiledAvroTypeInfo(Schema schema) {
    if (schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException("Not a record schema: " + schema);
    }
    this.schema = schema;
  }

  public Schema schema() {
    return schema;
  }

  @Override
  public boolean isBasicType() {
    return false;
  }

  @Override
  public boolean isTupleType() {
    return false;
  }

  @Override
  public int getArity() {
    return 1;
  }

  @Override
  public int getTotalFields() {
    return 1;
  }

  @Override
  public Class<GenericRecord> getTypeClass() {
    return GenericRecord.class;
  }

  @Override
  public boolean isKeyType() {
    return false;
  }

  @Override
  public TypeSerializer<GenericRecord> createSerializer(SerializerConfig config) {
    return new CompiledAvroSerializer(schema);
  }

  @Override
  public String toString() {
    return "CompiledAvroTypeInfo(" + schema.getFullName() + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CompiledAvroTypeInfo other
        && other.canEqual(this)
        && schema.equals(other.schema);
  }

  @Override
  public int hashCode() {
    return schema.hashCode();
  }

  @Override
  public boolean canEqual(Object o) {
    return o instanceof CompiledAvroTypeInfo;
  }
}
