package io.vigil.functions.ingest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
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
 * the raw bytes and makes a string of them only if they are valid UTF-8. Every string, including
 * map keys and defaults filled in by schema resolution, is returned as a {@link String}.
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
    return reader(writer, reader);
  }

  /** A reader of {@code writer} data as {@code reader} records; see {@link Reader}. */
  <D> Reader<D> reader(Schema writer, Schema reader) {
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

  /**
   * The generic reader with strict strings. It also notes whether it read a NaN or infinite float
   * or double ({@link #readNonFinite()}), so that the caller walks the event for the offending field
   * only when there is one. Holds scratch buffers: use one instance per thread.
   */
  static final class Reader<D> extends GenericDatumReader<D> {

    /**
     * The initial capacity of arrays and maps, however many items a block claims: the claim is
     * untrusted input, and the collection grows as items are actually read.
     */
    private static final int MAX_INITIAL_CAPACITY = 64;

    private final Utf8 scratch = new Utf8();
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
    private boolean nonFinite;

    Reader(Schema writer, Schema reader, GenericData data) {
      super(writer, reader, data);
    }

    /** Whether the last {@link #read} read a NaN or infinite float or double anywhere. */
    boolean readNonFinite() {
      return nonFinite;
    }

    @Override
    public D read(D reuse, Decoder in) throws IOException {
      nonFinite = false;
      return super.read(reuse, in);
    }

    @Override
    protected Object readWithoutConversion(Object old, Schema expected, ResolvingDecoder in)
        throws IOException {
      Object value = super.readWithoutConversion(old, expected, in);
      if (value instanceof Double d && !Double.isFinite(d)
          || value instanceof Float f && !Float.isFinite(f)) {
        nonFinite = true;
      }
      return value;
    }

    /**
     * Reads the bytes into a scratch buffer and makes a string of them only if they are valid
     * UTF-8: ASCII (the common case) directly, as its bytes are its code points; anything else
     * through a decoder that reports malformed input.
     */
    @Override
    protected Object readString(Object old, Schema expected, Decoder in) throws IOException {
      Utf8 raw = in.readString(scratch);
      byte[] bytes = raw.getBytes();
      int length = raw.getByteLength();
      for (int i = 0; i < length; i++) {
        if (bytes[i] < 0) {
          return strict(bytes, length);
        }
      }
      return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
    }

    private String strict(byte[] bytes, int length) throws InvalidUtf8Exception {
      try {
        return utf8.decode(ByteBuffer.wrap(bytes, 0, length)).toString();
      } catch (CharacterCodingException e) {
        throw new InvalidUtf8Exception("", e);
      }
    }

    @Override
    protected Object newArray(Object old, int size, Schema schema) {
      return super.newArray(old, Math.min(size, MAX_INITIAL_CAPACITY), schema);
    }

    @Override
    protected Object newMap(Object old, int size) {
      return super.newMap(old, Math.min(size, MAX_INITIAL_CAPACITY));
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
