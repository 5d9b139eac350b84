package io.vigil.functions.event.avro;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;

/**
 * Random values of any Avro schema, in the several Java shapes a writer may be handed (String or
 * Utf8 strings; GenericData.Array or ArrayList arrays; byte buffers with an offset), so that tests
 * cover what producers put into records, not only what readers return.
 */
final class RandomRecords {

  /** Beyond this nesting depth unions take their null branch and containers stay empty. */
  private static final int MAX_DEPTH = 4;

  private final Random random;

  RandomRecords(long seed) {
    this.random = new Random(seed);
  }

  GenericRecord record(Schema schema) {
    return (GenericRecord) value(schema, 0);
  }

  Object value(Schema schema, int depth) {
    switch (schema.getType()) {
      case NULL:
        return null;
      case BOOLEAN:
        return random.nextBoolean();
      case INT:
        return random.nextInt(4) == 0 ? random.nextInt(100) : random.nextInt();
      case LONG:
        return random.nextInt(4) == 0 ? (long) random.nextInt(100) : random.nextLong();
      case FLOAT:
        return random.nextInt(10) == 0 ? Float.NaN : random.nextFloat() * 1e6f - 5e5f;
      case DOUBLE:
        return switch (random.nextInt(10)) {
          case 0 -> Double.NaN;
          case 1 -> -0.0;
          case 2 -> Double.NEGATIVE_INFINITY;
          default -> random.nextGaussian() * 1e3;
        };
      case STRING:
        return string();
      case BYTES:
        return bytes();
      case FIXED:
        byte[] fixed = new byte[schema.getFixedSize()];
        random.nextBytes(fixed);
        return new GenericData.Fixed(schema, fixed);
      case ENUM:
        List<String> symbols = schema.getEnumSymbols();
        return new GenericData.EnumSymbol(schema, symbols.get(random.nextInt(symbols.size())));
      case ARRAY:
        int size = depth >= MAX_DEPTH ? 0 : random.nextInt(4);
        Collection<Object> array =
            random.nextBoolean() ? new GenericData.Array<>(size, schema) : new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
          array.add(value(schema.getElementType(), depth + 1));
        }
        return array;
      case MAP:
        int entries = depth >= MAX_DEPTH ? 0 : random.nextInt(4);
        Map<Object, Object> map = new HashMap<>();
        boolean utf8Keys = random.nextBoolean();
        for (int i = 0; i < entries; i++) {
          // A StringBuilder key would be looked up by identity: keys are String or Utf8 only.
          // GenericData compares maps assuming one key type per map, as readers produce them.
          CharSequence key = string();
          map.put(utf8Keys ? new Utf8(key.toString()) : key.toString(), value(schema.getValueType(), depth + 1));
        }
        return map;
      case UNION:
        List<Schema> branches = schema.getTypes();
        Schema branch = branches.get(random.nextInt(branches.size()));
        if (depth >= MAX_DEPTH) {
          for (Schema b : branches) {
            if (b.getType() == Schema.Type.NULL) {
              branch = b;
            }
          }
        }
        return value(branch, depth + 1);
      case RECORD:
        GenericData.Record record = new GenericData.Record(schema);
        for (Schema.Field field : schema.getFields()) {
          record.put(field.pos(), value(field.schema(), depth + 1));
        }
        return record;
      default:
        throw new IllegalArgumentException("No generator for " + schema.getType());
    }
  }

  private CharSequence string() {
    StringBuilder text = new StringBuilder();
    int length = random.nextInt(12);
    for (int i = 0; i < length; i++) {
      switch (random.nextInt(8)) {
        case 0 -> text.append('é');
        case 1 -> text.append("\uD83D\uDE00"); // a supplementary character: a surrogate pair
        case 2 -> text.append('\u4E2D');
        default -> text.append((char) ('a' + random.nextInt(26)));
      }
    }
    return random.nextBoolean() ? text.toString() : new Utf8(text.toString());
  }

  private ByteBuffer bytes() {
    byte[] bytes = new byte[random.nextInt(20)];
    random.nextBytes(bytes);
    if (bytes.length > 2 && random.nextBoolean()) {
      // Only the remaining bytes are the value; a writer must neither skip nor move them.
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      buffer.position(1).limit(bytes.length - 1);
      return buffer;
    }
    return ByteBuffer.wrap(bytes);
  }
}
