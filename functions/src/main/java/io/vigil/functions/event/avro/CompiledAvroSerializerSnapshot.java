package io.vigil.functions.event.avro;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * The snapshot of a {@link CompiledAvroSerializer}: its schema, as JSON.
 *
 * <p>Compatibility: the same schema is compatible as is; anything else (another schema, another
 * serializer) is incompatible. Not "compatible after migration": the format is positional and has
 * no schema resolution, so data of the old schema could only be read as records of the old schema,
 * which the new serializer cannot write. The serializer is for the network, not for state.
 */
public final class CompiledAvroSerializerSnapshot implements TypeSerializerSnapshot<GenericRecord> {

  private static final int VERSION = 1;

  private Schema schema;

  /** For Flink, which reads the snapshot into an instance made by this constructor. */
  public CompiledAvroSerializerSnapshot() {}

  CompiledAvroSerializerSnapshot(Schema schema) {
    this.schema = schema;
  }

  @Override
  public int getCurrentVersion() {
    return VERSION;
  }

  @Override
  public void writeSnapshot(DataOutputView out) throws IOException {
    // Length and UTF-8 bytes rather than writeUTF, which is limited to 64 KiB.
    byte[] json = schema.toString().getBytes(StandardCharsets.UTF_8);
    out.writeInt(json.length);
    out.write(json);
  }

  @Override
  public void readSnapshot(int readVersion, DataInputView in, ClassLoader userCodeClassLoader)
      throws IOException {
    if (readVersion != VERSION) {
      throw new IOException("Unknown CompiledAvroSerializerSnapshot version " + readVersion);
    }
    byte[] json = new byte[in.readInt()];
    in.readFully(json);
    schema = new Schema.Parser().parse(new String(json, StandardCharsets.UTF_8));
  }

  @Override
  public TypeSerializer<GenericRecord> restoreSerializer() {
    return new CompiledAvroSerializer(schema);
  }

  @Override
  public TypeSerializerSchemaCompatibility<GenericRecord> resolveSchemaCompatibility(
      TypeSerializerSnapshot<GenericRecord> oldSerializerSnapshot) {
    return oldSerializerSnapshot instanceof CompiledAvroSerializerSnapshot old
            && schema.equals(old.schema)
        ? TypeSerializerSchemaCompatibility.compatibleAsIs()
        : TypeSerializerSchemaCompatibility.incompatible();
  }
}
