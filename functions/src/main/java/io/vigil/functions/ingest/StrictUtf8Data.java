package io.vigil.functions.ingest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.ResolvingDecoder;
import org.apache.avro.util.Utf8;

/**
 * The generic Avro data model, except that its readers reject strings that are not valid UTF-8.
 *
 * <p>Avro itself decodes string bytes with {@code new String(bytes, UTF_8)}, which silently turns
 * malformed sequences into U+FFFD; an event must not be changed on its way in, so this model reads
 * the raw bytes and decodes them with a REPORTing decoder. Every string, including map keys and
 * defaults filled in by schema resolution, is returned as a {@link String}.
 */
final class StrictUtf8Data extends GenericData {

  static final StrictUtf8Data INSTANCE = new StrictUtf8Data();

  private StrictUtf8Data() {}

  @Override
  @SuppressWarnings("rawtypes")
  public DatumReader createDatumReader(Schema schema) {
    return createDatumReader(schema, schema);
  }

  @Override
  @SuppressWarnings("rawtypes")
  public DatumReader createDatumReader(Schema writer, Schema reader) {
    return new Reader<>(writer, reader, this);
  }

  /** A string whose bytes are not valid UTF-8; the message names the field path. */
  static final class InvalidUtf8Exception extends IOException {

    private static final long serialVersionUID = 1L;

    private final String path;

    InvalidUtf8Exception(String path, CharacterCodingException cause) {
      super("string field '" + path + "' is not valid UTF-8", cause);
      this.path = path;
    }

    InvalidUtf8Exception within(String fieldName) {
      return new InvalidUtf8Exception(
          path.isEmpty() ? fieldName : fieldName + "." + path,
          (CharacterCodingException) getCause());
    }
  }

  private static final class Reader<D> extends GenericDatumReader<D> {

    Reader(Schema writer, Schema reader, GenericData data) {
      super(writer, reader, data);
    }

    @Override
    protected Object readString(Object old, Schema expected, Decoder in) throws IOException {
      Utf8 raw = in.readString(null);
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .decode(ByteBuffer.wrap(raw.getBytes(), 0, raw.getByteLength()))
            .toString();
      } catch (CharacterCodingException e) {
        throw new InvalidUtf8Exception("", e);
      }
    }

    @Override
    protected void readField(
        Object record, Schema.Field field, Object oldDatum, ResolvingDecoder in, Object state)
        throws IOException {
      try {
        super.readField(record, field, oldDatum, in, state);
      } catch (InvalidUtf8Exception e) {
        throw e.within(field.name());
      }
    }
  }
}
