package io.vigil.functions.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Conversion;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * Encodes events in the wire formats {@link EventDecoder} reads: for the demo generator and tests.
 * Records may be generated (specific) classes or generic records; each is written with its own
 * schema.
 */
public final class EventEncoders {

  private static final Map<Schema, BinaryMessageEncoder<IndexedRecord>> SINGLE_OBJECT =
      new ConcurrentHashMap<>();

  // Written bare, so that the decoder's non-finite check (not its type check) rejects them.
  private static final JsonFactory JSON =
      JsonFactory.builder().disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS).build();

  private EventEncoders() {}

  /** Avro single-object encoding: marker C3 01, the schema's fingerprint, the binary datum. */
  public static byte[] singleObject(IndexedRecord record) {
    BinaryMessageEncoder<IndexedRecord> encoder =
        SINGLE_OBJECT.computeIfAbsent(
            record.getSchema(), schema -> new BinaryMessageEncoder<>(model(record), schema));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      encoder.encode(record, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The bare Avro binary datum, without any header. */
  @SuppressWarnings("unchecked")
  public static byte[] avroBinary(IndexedRecord record) {
    DatumWriter<IndexedRecord> writer = model(record).createDatumWriter(record.getSchema());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Plain JSON as people write it: union values unwrapped, enums as their symbol, bytes and fixed
   * as strings of ISO-8859-1 code points, NaN and infinities as bare {@code NaN} / {@code
   * Infinity}. Not Avro's JSON encoding, which wraps union values in an object naming the branch.
   */
  public static byte[] json(GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator generator = JSON.createGenerator(out)) {
      write(generator, model(record), record, record.getSchema());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * The data model that wrote the record: a generated class's own, which knows its logical-type
   * conversions (for example timestamp-millis as {@code Instant}), else the generic one.
   */
  private static GenericData model(IndexedRecord record) {
    return record instanceof SpecificRecordBase specific
        ? specific.getSpecificData()
        : GenericData.get();
  }

  private static void write(JsonGenerator out, GenericData model, Object value, Schema type)
      throws IOException {
    Object datum = rawValue(model, value, type);
    switch (type.getType()) {
      case RECORD:
        IndexedRecord record = (IndexedRecord) datum;
        out.writeStartObject();
        for (Schema.Field field : type.getFields()) {
          out.writeFieldName(field.name());
          write(out, model, record.get(field.pos()), field.schema());
        }
        out.writeEndObject();
        break;
      case UNION:
        write(out, model, datum, type.getTypes().get(model.resolveUnion(type, datum)));
        break;
      case ENUM:
      case STRING:
        out.writeString(datum.toString());
        break;
      case INT:
        out.writeNumber(((Number) datum).intValue());
        break;
      case LONG:
        out.writeNumber(((Number) datum).longValue());
        break;
      case FLOAT:
        out.writeNumber(((Number) datum).floatValue());
        break;
      case DOUBLE:
        out.writeNumber(((Number) datum).doubleValue());
        break;
      case BOOLEAN:
        out.writeBoolean((Boolean) datum);
        break;
      case NULL:
        out.writeNull();
        break;
      case BYTES:
        ByteBuffer buffer = ((ByteBuffer) datum).duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        out.writeString(latin1(bytes));
        break;
      case FIXED:
        out.writeString(latin1(((GenericFixed) datum).bytes()));
        break;
      case ARRAY:
        out.writeStartArray();
        for (Object item : (Collection<?>) datum) {
          write(out, model, item, type.getElementType());
        }
        out.writeEndArray();
        break;
      case MAP:
        out.writeStartObject();
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) datum).entrySet()) {
          out.writeFieldName(entry.getKey().toString());
          write(out, model, entry.getValue(), type.getValueType());
        }
        out.writeEndObject();
        break;
      default:
        throw new IllegalArgumentException("unhandled Avro type " + type.getType());
    }
  }

  /** The value as Avro writes it, undoing a logical-type conversion such as Instant -> long. */
  private static Object rawValue(GenericData model, Object datum, Schema type) {
    LogicalType logicalType = type.getLogicalType();
    if (datum == null || logicalType == null) {
      return datum;
    }
    Conversion<?> conversion = model.getConversionByClass(datum.getClass(), logicalType);
    return conversion == null
        ? datum
        : Conversions.convertToRawType(datum, type, logicalType, conversion);
  }

  private static String latin1(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }
}
