package io.vigil.functions.event.avro;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.generic.PrimitivesArrays;
import org.apache.avro.util.Utf8;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Writes and reads the values of one Avro schema to and from Flink's data views; {@link
 * #compile} turns a schema into a tree of codecs once, so that serialising a record needs no
 * lookup by name and no union resolution by name.
 *
 * <p>Wire format (Vigil's own, not Avro's binary encoding; both ends always share the schema):
 * boolean as one byte; int, long, float and double fixed-width big-endian as {@link
 * java.io.DataOutput} writes them (wider than Avro's varints, but a plain copy to write and read);
 * string and bytes as an int byte length and the bytes (strings in UTF-8); fixed as its bytes;
 * enum symbol and union branch as their index, one unsigned byte when there are at most 256 of
 * them, else an int; array and map as an int count and the items (map keys as strings); record as
 * its fields in schema order; null as nothing.
 *
 * <p>What reading returns is what Avro's {@code GenericDatumReader} returns with a {@link
 * GenericData} without logical-type conversions (what Flink's {@code AvroSerializer} uses for
 * generic records): {@link Utf8} strings, or {@link String} where the schema has {@code
 * "avro.java.string": "String"}; heap {@link ByteBuffer}s; {@link GenericData.Fixed}; {@link
 * GenericData.EnumSymbol}; the arrays {@link GenericData#newArray} creates (but arrays of doubles
 * with their full values: Avro 1.12.0's reader rounds them to floats); {@link HashMap}s;
 * {@link GenericData.Record}s; logical types as their underlying type. Writing accepts what Avro's
 * {@code GenericDatumWriter} accepts, plus generated Java enums for enum schemas and, in a union of
 * null and one type, any value that type accepts (Avro would demand a Long, not any Number, in
 * {@code ["null", "long"]}); a value of the wrong type fails with a {@link WrongTypeException}
 * naming the field.
 *
 * <p>Codecs are immutable and so safe to share between threads.
 */
abstract class Codec {

  /** Avro without conversions: the container factories and the union fallback Flink's reader uses. */
  private static final GenericData DATA = new GenericData();

  /** More branches or symbols than this are written as an int instead of one unsigned byte. */
  private static final int BYTE_INDEX_LIMIT = 256;

  abstract void write(Object value, DataOutputView out) throws IOException;

  abstract Object read(DataInputView in) throws IOException;

  /** The codec tree for {@code schema}; recursive record schemas become cyclic codec graphs. */
  static Codec compile(Schema schema) {
    return compile(schema, new IdentityHashMap<>());
  }

  private static Codec compile(Schema schema, Map<Schema, RecordCodec> records) {
    return switch (schema.getType()) {
      case NULL -> NullCodec.INSTANCE;
      case BOOLEAN -> BooleanCodec.INSTANCE;
      case INT -> IntCodec.INSTANCE;
      case LONG -> LongCodec.INSTANCE;
      case FLOAT -> FloatCodec.INSTANCE;
      case DOUBLE -> DoubleCodec.INSTANCE;
      case STRING -> StringCodec.of(schema);
      case BYTES -> BytesCodec.INSTANCE;
      case FIXED -> new FixedCodec(schema);
      case ENUM -> new EnumCodec(schema);
      case ARRAY -> new ArrayCodec(schema, compile(schema.getElementType(), records));
      case MAP -> new MapCodec(StringCodec.of(schema), compile(schema.getValueType(), records));
      case UNION -> {
        List<Codec> branches = new ArrayList<>();
        for (Schema branch : schema.getTypes()) {
          branches.add(compile(branch, records));
        }
        yield UnionCodec.of(schema, branches.toArray(Codec[]::new));
      }
      case RECORD -> {
        RecordCodec known = records.get(schema);
        if (known != null) {
          yield known;
        }
        // Registered before its fields are compiled, so that a field referring back to this
        // record (a recursive schema) reuses it instead of recursing forever.
        RecordCodec record = new RecordCodec(schema);
        records.put(schema, record);
        for (Schema.Field field : schema.getFields()) {
          record.fields[field.pos()] = compile(field.schema(), records);
        }
        yield record;
      }
    };
  }

  /** A value that does not fit the schema; {@link RecordCodec} adds the path of field names. */
  static final class WrongTypeException extends IllegalArgumentException {
    private final String path;
    private final String problem;

    WrongTypeException(String problem) {
      this("", problem);
    }

    private WrongTypeException(String path, String problem) {
      super(path.isEmpty() ? problem : path + ": " + problem);
      this.path = path;
      this.problem = problem;
    }

    WrongTypeException within(String field) {
      return new WrongTypeException(path.isEmpty() ? field : field + "." + path, problem);
    }

    static WrongTypeException expected(String expected, Object value) {
      if (value == null) {
        return new WrongTypeException("null where " + expected + " is required");
      }
      String actual = value.getClass().getName();
      if (value instanceof GenericContainer container) {
        actual += " of schema " + container.getSchema().getFullName();
      }
      return new WrongTypeException("expected " + expected + ", got " + actual);
    }
  }

  private static void writeIndex(int index, int count, DataOutputView out) throws IOException {
    if (count <= BYTE_INDEX_LIMIT) {
      out.writeByte(index);
    } else {
      out.writeInt(index);
    }
  }

  private static int readIndex(int count, DataInputView in) throws IOException {
    int index = count <= BYTE_INDEX_LIMIT ? in.readUnsignedByte() : in.readInt();
    if (index < 0 || index >= count) {
      throw new IOException("Corrupt input: index " + index + " of " + count);
    }
    return index;
  }

  private static byte[] readBytes(DataInputView in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      throw new IOException("Corrupt input: negative length " + length);
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return bytes;
  }

  private static final class NullCodec extends Codec {
    static final NullCodec INSTANCE = new NullCodec();

    @Override
    void write(Object value, DataOutputView out) {
      if (value != null) {
        throw WrongTypeException.expected("null", value);
      }
    }

    @Override
    Object read(DataInputView in) {
      return null;
    }
  }

  private static final class BooleanCodec extends Codec {
    static final BooleanCodec INSTANCE = new BooleanCodec();

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof Boolean b)) {
        throw WrongTypeException.expected("boolean (java.lang.Boolean)", value);
      }
      out.writeBoolean(b);
    }

    @Override
    Object read(DataInputView in) throws IOException {
      return in.readBoolean();
    }
  }

  /* The numeric codecs accept any Number, as Avro's GenericDatumWriter does. */

  private static final class IntCodec extends Codec {
    static final IntCodec INSTANCE = new IntCodec();

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof Number n)) {
        throw WrongTypeException.expected("int (java.lang.Number)", value);
      }
      out.writeInt(n.intValue());
    }

    @Override
    Object read(DataInputView in) throws IOException {
      return in.readInt();
    }
  }

  private static final class LongCodec extends Codec {
    static final LongCodec INSTANCE = new LongCodec();

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof Number n)) {
        throw WrongTypeException.expected("long (java.lang.Number)", value);
      }
      out.writeLong(n.longValue());
    }

    @Override
    Object read(DataInputView in) throws IOException {
      return in.readLong();
    }
  }

  private static final class FloatCodec extends Codec {
    static final FloatCodec INSTANCE = new FloatCodec();

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof Number n)) {
        throw WrongTypeException.expected("float (java.lang.Number)", value);
      }
      out.writeFloat(n.floatValue());
    }

    @Override
    Object read(DataInputView in) throws IOException {
      return in.readFloat();
    }
  }

  private static final class DoubleCodec extends Codec {
    static final DoubleCodec INSTANCE = new DoubleCodec();

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof Number n)) {
        throw WrongTypeException.expected("double (java.lang.Number)", value);
      }
      out.writeDouble(n.doubleValue());
    }

    @Override
    Object read(DataInputView in) throws IOException {
      return in.readDouble();
    }
  }

  /**
   * Strings (and map keys): any CharSequence in; {@link String} out where the schema asks for it
   * with {@code avro.java.string}, else {@link Utf8}, as GenericDatumReader decides.
   */
  private static final class StringCodec extends Codec {
    private static final StringCodec UTF8 = new StringCodec(false);
    private static final StringCodec JAVA_STRING = new StringCodec(true);

    private final boolean javaString;

    private StringCodec(boolean javaString) {
      this.javaString = javaString;
    }

    /** The codec for a string schema, or for the keys of a map schema. */
    static StringCodec of(Schema schema) {
      return GenericData.StringType.String.name().equals(schema.getProp(GenericData.STRING_PROP))
          ? JAVA_STRING
          : UTF8;
    }

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (value instanceof Utf8 utf8) {
        // Utf8 already holds its UTF-8 bytes (possibly in a longer buffer): no encoding needed.
        out.writeInt(utf8.getByteLength());
        out.write(utf8.getBytes(), 0, utf8.getByteLength());
      } else if (value instanceof CharSequence chars) {
        byte[] bytes = chars.toString().getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
      } else {
        throw WrongTypeException.expected("string (java.lang.CharSequence)", value);
      }
    }

    @Override
    Object read(DataInputView in) throws IOException {
      byte[] bytes = readBytes(in);
      return javaString ? new String(bytes, StandardCharsets.UTF_8) : new Utf8(bytes);
    }
  }

  /** Bytes: the buffer's remaining bytes are written, its position is left as it was. */
  private static final class BytesCodec extends Codec {
    static final BytesCodec INSTANCE = new BytesCodec();

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof ByteBuffer buffer)) {
        throw WrongTypeException.expected("bytes (java.nio.ByteBuffer)", value);
      }
      int length = buffer.remaining();
      out.writeInt(length);
      if (buffer.hasArray()) {
        out.write(buffer.array(), buffer.arrayOffset() + buffer.position(), length);
      } else {
        byte[] bytes = new byte[length];
        buffer.duplicate().get(bytes);
        out.write(bytes);
      }
    }

    @Override
    Object read(DataInputView in) throws IOException {
      return ByteBuffer.wrap(readBytes(in));
    }
  }

  private static final class FixedCodec extends Codec {
    private final Schema schema;
    private final int size;

    FixedCodec(Schema schema) {
      this.schema = schema;
      this.size = schema.getFixedSize();
    }

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      // Like Avro, the first `size` bytes of a longer array are written.
      if (!(value instanceof GenericFixed fixed) || fixed.bytes().length < size) {
        throw WrongTypeException.expected(
            "fixed " + schema.getFullName() + " of " + size + " bytes (GenericFixed)", value);
      }
      out.write(fixed.bytes(), 0, size);
    }

    @Override
    Object read(DataInputView in) throws IOException {
      byte[] bytes = new byte[size];
      in.readFully(bytes);
      return new GenericData.Fixed(schema, bytes);
    }
  }

  /** Enum symbols by ordinal; the symbols read are shared, GenericData.EnumSymbol being immutable. */
  private static final class EnumCodec extends Codec {
    private final Schema schema;
    private final Map<String, Integer> ordinals = new HashMap<>();
    private final GenericData.EnumSymbol[] symbols;

    EnumCodec(Schema schema) {
      this.schema = schema;
      List<String> names = schema.getEnumSymbols();
      symbols = new GenericData.EnumSymbol[names.size()];
      for (int i = 0; i < symbols.length; i++) {
        ordinals.put(names.get(i), i);
        symbols[i] = new GenericData.EnumSymbol(schema, names.get(i));
      }
    }

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      String symbol;
      if (value instanceof GenericEnumSymbol<?>) {
        symbol = value.toString();
      } else if (value instanceof Enum<?> generated) {
        symbol = generated.name();
      } else {
        throw WrongTypeException.expected(
            "enum " + schema.getFullName() + " (GenericEnumSymbol or java.lang.Enum)", value);
      }
      Integer ordinal = ordinals.get(symbol);
      if (ordinal == null) {
        throw new WrongTypeException(
            "'" + symbol + "' is not a symbol of enum " + schema.getFullName());
      }
      writeIndex(ordinal, symbols.length, out);
    }

    @Override
    Object read(DataInputView in) throws IOException {
      return symbols[readIndex(symbols.length, in)];
    }
  }

  private static final class ArrayCodec extends Codec {
    private final Schema schema;
    private final Codec items;

    ArrayCodec(Schema schema, Codec items) {
      this.schema = schema;
      this.items = items;
    }

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof Collection<?> collection)) {
        throw WrongTypeException.expected("array (java.util.Collection)", value);
      }
      int size = collection.size();
      out.writeInt(size);
      if (collection instanceof List<?> list && list instanceof RandomAccess) {
        for (int i = 0; i < size; i++) {
          items.write(list.get(i), out);
        }
      } else {
        Iterator<?> iterator = collection.iterator();
        for (int i = 0; i < size; i++) {
          items.write(iterator.next(), out);
        }
      }
    }

    @Override
    @SuppressWarnings("unchecked")
    Object read(DataInputView in) throws IOException {
      int size = in.readInt();
      if (size < 0) {
        throw new IOException("Corrupt input: negative array size " + size);
      }
      Object array = DATA.newArray(null, size, schema);
      if (array instanceof PrimitivesArrays.DoubleArray doubles) {
        // Avro 1.12.0's DoubleArray.add(Double), which GenericDatumReader calls, rounds the
        // value to a float; the primitive add keeps it whole.
        for (int i = 0; i < size; i++) {
          doubles.add(i, in.readDouble());
        }
      } else {
        Collection<Object> collection = (Collection<Object>) array;
        for (int i = 0; i < size; i++) {
          collection.add(items.read(in));
        }
      }
      return array;
    }
  }

  private static final class MapCodec extends Codec {
    private final StringCodec keys;
    private final Codec values;

    MapCodec(StringCodec keys, Codec values) {
      this.keys = keys;
      this.values = values;
    }

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof Map<?, ?> map)) {
        throw WrongTypeException.expected("map (java.util.Map)", value);
      }
      out.writeInt(map.size());
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        keys.write(entry.getKey(), out);
        values.write(entry.getValue(), out);
      }
    }

    @Override
    Object read(DataInputView in) throws IOException {
      int size = in.readInt();
      if (size < 0) {
        throw new IOException("Corrupt input: negative map size " + size);
      }
      Map<Object, Object> map = new HashMap<>(size);
      for (int i = 0; i < size; i++) {
        map.put(keys.read(in), values.read(in));
      }
      return map;
    }
  }

  /**
   * Unions: the branch is chosen by the value's Java type through indexes computed once from the
   * union's branches, as Avro's {@link GenericData#resolveUnion} would choose it by type name;
   * values the table cannot place are left to resolveUnion itself (which then throws).
   */
  private static final class UnionCodec extends Codec {
    private final Schema schema;
    private final Codec[] branches;
    private final int nullIndex;
    private final int booleanIndex;
    private final int intIndex;
    private final int longIndex;
    private final int floatIndex;
    private final int doubleIndex;
    private final int stringIndex;
    private final int bytesIndex;
    private final int arrayIndex;
    private final int mapIndex;
    /** Record, enum and fixed branches by full name. */
    private final Map<String, Integer> named = new HashMap<>();

    UnionCodec(Schema schema, Codec[] branches) {
      this.schema = schema;
      this.branches = branches;
      List<Schema> types = schema.getTypes();
      nullIndex = indexOf(types, Schema.Type.NULL);
      booleanIndex = indexOf(types, Schema.Type.BOOLEAN);
      intIndex = indexOf(types, Schema.Type.INT);
      longIndex = indexOf(types, Schema.Type.LONG);
      floatIndex = indexOf(types, Schema.Type.FLOAT);
      doubleIndex = indexOf(types, Schema.Type.DOUBLE);
      stringIndex = indexOf(types, Schema.Type.STRING);
      bytesIndex = indexOf(types, Schema.Type.BYTES);
      arrayIndex = indexOf(types, Schema.Type.ARRAY);
      mapIndex = indexOf(types, Schema.Type.MAP);
      for (int i = 0; i < types.size(); i++) {
        Schema.Type type = types.get(i).getType();
        if (type == Schema.Type.RECORD || type == Schema.Type.ENUM || type == Schema.Type.FIXED) {
          named.put(types.get(i).getFullName(), i);
        }
      }
    }

    /** The codec for {@code union}: the common {@code [null, X]} and {@code [X, null]} get a faster one. */
    static Codec of(Schema union, Codec[] branches) {
      List<Schema> types = union.getTypes();
      if (types.size() == 2) {
        int nullIndex = indexOf(types, Schema.Type.NULL);
        if (nullIndex >= 0) {
          return new NullableCodec(nullIndex, branches[1 - nullIndex]);
        }
      }
      return new UnionCodec(union, branches);
    }

    private static int indexOf(List<Schema> types, Schema.Type type) {
      for (int i = 0; i < types.size(); i++) {
        if (types.get(i).getType() == type) {
          return i;
        }
      }
      return -1;
    }

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      int branch = branchOf(value);
      writeIndex(branch, branches.length, out);
      branches[branch].write(value, out);
    }

    private int branchOf(Object value) {
      int branch;
      if (value == null) {
        branch = nullIndex;
      } else if (value instanceof CharSequence) {
        branch = stringIndex;
      } else if (value instanceof Long) {
        branch = longIndex;
      } else if (value instanceof Integer) {
        branch = intIndex;
      } else if (value instanceof Double) {
        branch = doubleIndex;
      } else if (value instanceof Float) {
        branch = floatIndex;
      } else if (value instanceof Boolean) {
        branch = booleanIndex;
      } else if (value instanceof ByteBuffer) {
        branch = bytesIndex;
      } else if (value instanceof Collection) {
        branch = arrayIndex;
      } else if (value instanceof GenericContainer container) {
        // Records, enum symbols and fixed values carry their schema, hence their name.
        branch = named.getOrDefault(container.getSchema().getFullName(), -1);
      } else if (value instanceof Map) {
        branch = mapIndex;
      } else if (value instanceof Enum<?> generated) {
        // A generated enum's class is named like its schema.
        branch = named.getOrDefault(generated.getDeclaringClass().getName(), -1);
      } else {
        branch = -1;
      }
      return branch >= 0 ? branch : resolveByAvro(value);
    }

    private int resolveByAvro(Object value) {
      try {
        return DATA.resolveUnion(schema, value);
      } catch (AvroRuntimeException e) {
        throw new WrongTypeException(e.getMessage());
      }
    }

    @Override
    Object read(DataInputView in) throws IOException {
      return branches[readIndex(branches.length, in)].read(in);
    }
  }

  /** A union of null and one other type: the branch is simply whether the value is null. */
  private static final class NullableCodec extends Codec {
    private final int nullIndex;
    private final int valueIndex;
    private final Codec value;

    NullableCodec(int nullIndex, Codec value) {
      this.nullIndex = nullIndex;
      this.valueIndex = 1 - nullIndex;
      this.value = value;
    }

    @Override
    void write(Object v, DataOutputView out) throws IOException {
      if (v == null) {
        out.writeByte(nullIndex);
      } else {
        out.writeByte(valueIndex);
        value.write(v, out);
      }
    }

    @Override
    Object read(DataInputView in) throws IOException {
      int index = readIndex(2, in);
      return index == nullIndex ? null : value.read(in);
    }
  }

  /** Records by field position; any {@link IndexedRecord} of the same record type is written. */
  private static final class RecordCodec extends Codec {
    private final Schema schema;
    private final String[] names;
    private final Codec[] fields;

    RecordCodec(Schema schema) {
      this.schema = schema;
      this.names = schema.getFields().stream().map(Schema.Field::name).toArray(String[]::new);
      this.fields = new Codec[names.length];
    }

    @Override
    void write(Object value, DataOutputView out) throws IOException {
      if (!(value instanceof IndexedRecord record)
          || (record.getSchema() != schema
              && !record.getSchema().getFullName().equals(schema.getFullName()))) {
        throw WrongTypeException.expected("record " + schema.getFullName(), value);
      }
      for (int i = 0; i < fields.length; i++) {
        try {
          fields[i].write(record.get(i), out);
        } catch (WrongTypeException e) {
          throw e.within(names[i]);
        }
      }
    }

    @Override
    Object read(DataInputView in) throws IOException {
      GenericData.Record record = new GenericData.Record(schema);
      for (int i = 0; i < fields.length; i++) {
        record.put(i, fields[i].read(in));
      }
      return record;
    }
  }
}
