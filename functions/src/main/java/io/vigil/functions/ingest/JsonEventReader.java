package io.vigil.functions.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vigil.schemas.DeadLetterReason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Reads plain JSON, as people write it, into a {@link GenericRecord} of a given Avro schema by
 * walking the schema.
 *
 * <p>Rules: a union accepts {@code null} (if it has a null branch) or a value of its first branch
 * that fits the JSON value; enums are strings naming a symbol; bytes and fixed are strings of
 * ISO-8859-1 code points (as in Avro's JSON encoding); a field absent or {@code null} where the
 * schema does not allow null takes its default, and without a default the record is rejected;
 * unknown JSON fields are ignored, as Avro schema resolution ignores writer fields the reader lacks.
 * {@code NaN} and {@code Infinity} are read as numbers so that validation can name them. Duplicate
 * keys, trailing content and nesting deeper than Jackson's default limit make the record
 * undecodable.
 */
final class JsonEventReader {

  private static final ObjectMapper MAPPER =
      new ObjectMapper(
              JsonFactory.builder()
                  .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                  .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                  .build())
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final int MAX_SHOWN_VALUE_CHARS = 40;

  private final Schema schema;
  private final String keyField;
  private final String eventTimeField;

  /**
   * @param keyField a missing top-level value of this field is reported as MISSING_KEY
   * @param eventTimeField a missing top-level value of this field is reported as MISSING_EVENT_TIME
   */
  JsonEventReader(Schema schema, String keyField, String eventTimeField) {
    this.schema = schema;
    this.keyField = keyField;
    this.eventTimeField = eventTimeField;
  }

  GenericRecord read(byte[] json) throws Rejection {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where =
          at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw new Rejection(
          DeadLetterReason.UNDECODABLE, "malformed JSON" + where + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new Rejection(DeadLetterReason.UNDECODABLE, "unreadable JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new Rejection(
          DeadLetterReason.UNDECODABLE,
          "JSON record must be an object, got " + kind(root));
    }
    return readRecord(root, schema, "");
  }

  private GenericRecord readRecord(JsonNode node, Schema recordSchema, String path)
      throws Rejection {
    GenericData.Record record = new GenericData.Record(recordSchema);
    for (Schema.Field field : recordSchema.getFields()) {
      String fieldPath = path.isEmpty() ? field.name() : path + "." + field.name();
      JsonNode value = node.get(field.name());
      boolean absent = value == null || (value.isNull() && !acceptsNull(field.schema()));
      if (!absent) {
        record.put(field.pos(), read(value, field.schema(), fieldPath));
      } else if (field.hasDefaultValue()) {
        record.put(field.pos(), defaultValue(field));
      } else {
        throw missing(fieldPath, field.schema());
      }
    }
    return record;
  }

  private Rejection missing(String fieldPath, Schema fieldSchema) {
    DeadLetterReason reason = DeadLetterReason.MISSING_FIELD;
    if (fieldPath.equals(keyField)) {
      reason = DeadLetterReason.MISSING_KEY;
    } else if (fieldPath.equals(eventTimeField)) {
      reason = DeadLetterReason.MISSING_EVENT_TIME;
    }
    return new Rejection(
        reason,
        "required field '" + fieldPath + "' (" + typeName(fieldSchema) + ") is missing or null");
  }

  private static Object defaultValue(Schema.Field field) {
    // The model caches defaults and hands out the same instance; copy so records never share state.
    Object shared = StrictUtf8Data.INSTANCE.getDefaultValue(field);
    return StrictUtf8Data.INSTANCE.deepCopy(field.schema(), shared);
  }

  private Object read(JsonNode node, Schema type, String path) throws Rejection {
    switch (type.getType()) {
      case RECORD:
        requireThat(node.isObject(), node, type, path);
        return readRecord(node, type, path);
      case UNION:
        return read(node, unionBranch(node, type, path), path);
      case ENUM:
        requireThat(node.isTextual(), node, type, path);
        if (!type.hasEnumSymbol(node.textValue())) {
          throw new Rejection(
              DeadLetterReason.WRONG_TYPE,
              "field '"
                  + path
                  + "': "
                  + show(node)
                  + " is not a symbol of "
                  + type.getName()
                  + " "
                  + type.getEnumSymbols());
        }
        return new GenericData.EnumSymbol(type, node.textValue());
      case STRING:
        requireThat(node.isTextual(), node, type, path);
        return node.textValue();
      case INT:
        requireThat(node.isIntegralNumber() && node.canConvertToInt(), node, type, path);
        return node.intValue();
      case LONG:
        requireThat(node.isIntegralNumber() && node.canConvertToLong(), node, type, path);
        return node.longValue();
      case FLOAT:
        requireThat(node.isNumber(), node, type, path);
        return node.floatValue();
      case DOUBLE:
        requireThat(node.isNumber(), node, type, path);
        return node.doubleValue();
      case BOOLEAN:
        requireThat(node.isBoolean(), node, type, path);
        return node.booleanValue();
      case NULL:
        requireThat(node.isNull(), node, type, path);
        return null;
      case BYTES:
        return ByteBuffer.wrap(latin1(node, type, path));
      case FIXED:
        byte[] bytes = latin1(node, type, path);
        requireThat(bytes.length == type.getFixedSize(), node, type, path);
        return new GenericData.Fixed(type, bytes);
      case ARRAY:
        requireThat(node.isArray(), node, type, path);
        List<Object> items = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
          items.add(read(node.get(i), type.getElementType(), path + "[" + i + "]"));
        }
        return new GenericData.Array<>(type, items);
      case MAP:
        requireThat(node.isObject(), node, type, path);
        Map<String, Object> map = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> entry = it.next();
          map.put(
              entry.getKey(),
              read(entry.getValue(), type.getValueType(), path + "." + entry.getKey()));
        }
        return map;
      default:
        throw new IllegalStateException("unhandled Avro type " + type.getType());
    }
  }

  /** The first union branch that can hold this JSON value. */
  private static Schema unionBranch(JsonNode node, Schema union, String path) throws Rejection {
    for (Schema branch : union.getTypes()) {
      if (fits(node, branch)) {
        return branch;
      }
    }
    throw wrongType(node, union, path);
  }

  private static boolean fits(JsonNode node, Schema branch) {
    switch (branch.getType()) {
      case NULL:
        return node.isNull();
      case BOOLEAN:
        return node.isBoolean();
      case INT:
        return node.isIntegralNumber() && node.canConvertToInt();
      case LONG:
        return node.isIntegralNumber() && node.canConvertToLong();
      case FLOAT:
      case DOUBLE:
        return node.isNumber();
      case STRING:
      case BYTES:
      case FIXED:
        return node.isTextual();
      case ENUM:
        return node.isTextual() && branch.hasEnumSymbol(node.textValue());
      case RECORD:
      case MAP:
        return node.isObject();
      case ARRAY:
        return node.isArray();
      default:
        return false;
    }
  }

  private static boolean acceptsNull(Schema type) {
    return type.getType() == Schema.Type.NULL
        || (type.getType() == Schema.Type.UNION
            && type.getTypes().stream().anyMatch(b -> b.getType() == Schema.Type.NULL));
  }

  private static byte[] latin1(JsonNode node, Schema type, String path) throws Rejection {
    requireThat(node.isTextual(), node, type, path);
    String text = node.textValue();
    byte[] bytes = new byte[text.length()];
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      requireThat(c <= 0xFF, node, type, path);
      bytes[i] = (byte) c;
    }
    return bytes;
  }

  private static void requireThat(boolean condition, JsonNode node, Schema type, String path)
      throws Rejection {
    if (!condition) {
      throw wrongType(node, type, path);
    }
  }

  private static Rejection wrongType(JsonNode node, Schema type, String path) {
    return new Rejection(
        DeadLetterReason.WRONG_TYPE,
        "field '" + path + "' must be " + typeName(type) + ", got " + kind(node) + " " + show(node));
  }

  private static String typeName(Schema type) {
    switch (type.getType()) {
      case UNION:
        List<String> names = new ArrayList<>();
        type.getTypes().forEach(b -> names.add(typeName(b)));
        return String.join(" or ", names);
      case RECORD:
      case ENUM:
      case FIXED:
        return type.getType().getName() + " " + type.getName();
      default:
        return type.getType().getName();
    }
  }

  private static String kind(JsonNode node) {
    return node == null || node.isMissingNode()
        ? "nothing"
        : node.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  private static String show(JsonNode node) {
    String text = node.toString();
    return text.length() <= MAX_SHOWN_VALUE_CHARS
        ? text
        : text.substring(0, MAX_SHOWN_VALUE_CHARS) + "...";
  }
}
