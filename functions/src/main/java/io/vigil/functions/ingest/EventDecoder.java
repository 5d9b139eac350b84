package io.vigil.functions.ingest;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SourceRef;
import java.io.EOFException;
import java.io.IOException;
import java.io.Serializable;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;

/**
 * Turns the bytes of one input record into an envelope ({@link Envelopes}): valid, holding a
 * {@link GenericRecord} of the event type's <em>current</em> schema, or failed, with a {@link
 * DeadLetterReason} and a message naming the field, bound or fingerprint at fault.
 *
 * <p>{@link #decode} never throws on any input bytes: every exception, including a {@link
 * StackOverflowError} from hostile nesting, becomes a failed envelope. Checks, in order:
 *
 * <ol>
 *   <li>EMPTY_RECORD (null or no bytes), OVERSIZED_RECORD (more than {@code maxRecordBytes}),
 *       before any parsing;
 *   <li>decoding in the configured {@link WireFormat}: UNDECODABLE (truncated or trailing bytes,
 *       malformed JSON, strings that are not valid UTF-8), UNKNOWN_FINGERPRINT and
 *       INCOMPATIBLE_SCHEMA (single-object records whose fingerprint is no version of this event
 *       type), MISSING_FIELD and WRONG_TYPE (JSON);
 *   <li>validation of the decoded event: MISSING_KEY, MISSING_EVENT_TIME, EVENT_TIME_OUT_OF_BOUNDS,
 *       INVALID_VALUE (NaN or infinity, when {@code rejectNonFiniteNumbers}).
 * </ol>
 *
 * <p>Single-object records written with any version of the event type ({@code allVersions()}) are
 * resolved to the current schema by Avro schema resolution. Avro binary input is read with a
 * decoder bounded by the record's bytes ({@link BoundedBinaryDecoder}): no length prefix makes the
 * reader allocate more than the record holds, and after the read the decoder proves that the
 * record was exactly one datum. A record that fails to read is then walked with the writer schema
 * without materialising anything, so that truncation and trailing bytes are reported as such,
 * ahead of whatever the read tripped on.
 *
 * <p>Serializable; readers are built on construction and rebuilt lazily after deserialization. An
 * instance is not thread-safe: use one per subtask, as Flink does with its copies.
 */
public final class EventDecoder implements Serializable {

  private static final long serialVersionUID = 1L;

  private static final byte[] SINGLE_OBJECT_MARKER = {(byte) 0xC3, 0x01};
  private static final int SINGLE_OBJECT_HEADER_BYTES = 10;
  private static final VarHandle LITTLE_ENDIAN_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final DecodeSettings settings;
  private transient Codecs codecs;

  public EventDecoder(DecodeSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.codecs = new Codecs(settings);
  }

  public DecodeSettings settings() {
    return settings;
  }

  /** The schema of the envelopes this decoder returns. */
  public Schema envelopeSchema() {
    return codecs().envelopeSchema;
  }

  /**
   * Decodes one record. Never throws for any {@code value}, including null.
   *
   * @param source where the record came from; must not be null
   * @param value the record bytes, kept byte for byte in the envelope
   */
  public GenericRecord decode(SourceRef source, byte[] value) {
    Objects.requireNonNull(source, "source");
    Codecs c = codecs();
    byte[] payload = value == null ? new byte[0] : value;
    try {
      GenericRecord event = read(c, payload);
      String key = key(c, event);
      long eventTime = eventTime(c, event);
      if (settings.rejectNonFiniteNumbers() && c.mayHoldNonFinite) {
        requireFinite(event, event.getSchema(), "");
      }
      return Envelopes.valid(c.envelopeSchema, source, payload, key, eventTime, event);
    } catch (Rejection r) {
      return Envelopes.failed(c.envelopeSchema, source, payload, r.reason(), r.getMessage());
    } catch (StackOverflowError e) {
      return Envelopes.failed(
          c.envelopeSchema,
          source,
          payload,
          DeadLetterReason.UNDECODABLE,
          "record is nested too deeply to decode");
    } catch (Exception e) {
      return Envelopes.failed(
          c.envelopeSchema, source, payload, DeadLetterReason.UNDECODABLE, describe(e));
    }
  }

  private Codecs codecs() {
    if (codecs == null) {
      codecs = new Codecs(settings);
    }
    return codecs;
  }

  /**
   * Reads the event; sets {@code c.mayHoldNonFinite} to whether the event may hold a NaN or
   * infinity (the Avro readers know; for JSON the event is walked).
   */
  private GenericRecord read(Codecs c, byte[] bytes) throws Rejection, IOException {
    c.mayHoldNonFinite = true;
    if (bytes.length == 0) {
      throw new Rejection(DeadLetterReason.EMPTY_RECORD, "record has no bytes");
    }
    if (bytes.length > settings.maxRecordBytes()) {
      throw new Rejection(
          DeadLetterReason.OVERSIZED_RECORD,
          "record has "
              + bytes.length
              + " bytes, more than the limit of "
              + settings.maxRecordBytes());
    }
    switch (settings.format() == WireFormat.AUTO ? detect(bytes) : settings.format()) {
      case AVRO_SINGLE_OBJECT:
        return readSingleObject(c, bytes);
      case JSON:
        return c.json.read(bytes);
      default:
        return readDatum(c, c.binary, bytes, 0);
    }
  }

  private static WireFormat detect(byte[] bytes) {
    if (hasSingleObjectMarker(bytes)) {
      return WireFormat.AVRO_SINGLE_OBJECT;
    }
    for (byte b : bytes) {
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return b == '{' ? WireFormat.JSON : WireFormat.AVRO_BINARY;
      }
    }
    return WireFormat.AVRO_BINARY;
  }

  private static boolean hasSingleObjectMarker(byte[] bytes) {
    return bytes.length >= 2
        && bytes[0] == SINGLE_OBJECT_MARKER[0]
        && bytes[1] == SINGLE_OBJECT_MARKER[1];
  }

  private GenericRecord readSingleObject(Codecs c, byte[] bytes) throws Rejection, IOException {
    if (!hasSingleObjectMarker(bytes) || bytes.length < SINGLE_OBJECT_HEADER_BYTES) {
      throw new Rejection(
          DeadLetterReason.UNDECODABLE,
          "not Avro single-object encoded: expected the marker C3 01 and an 8-byte fingerprint");
    }
    long fingerprint = (long) LITTLE_ENDIAN_LONG.get(bytes, 2);
    Version version = c.version(fingerprint);
    if (version == null) {
      throw unreadableFingerprint(c, fingerprint);
    }
    return readDatum(c, version, bytes, SINGLE_OBJECT_HEADER_BYTES);
  }

  /**
   * Reads the one datum that {@code bytes} hold from {@code offset}, written with {@code
   * version.writer()}, as a record of the current schema.
   */
  private static GenericRecord readDatum(Codecs c, Version version, byte[] bytes, int offset)
      throws Rejection, IOException {
    BoundedBinaryDecoder in = c.decoder.configure(bytes, offset);
    GenericRecord event;
    try {
      event = version.reader().read(null, in);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      // The record's shape is reported first, as when the walk preceded every read: a truncated
      // record, or trailing bytes after a datum that also holds, say, invalid UTF-8.
      requireOneDatum(c, version.writer(), bytes, offset);
      throw e;
    }
    if (in.remaining() > 0) {
      throw trailingBytes(in.remaining(), version.writer());
    }
    c.mayHoldNonFinite = version.reader().readNonFinite();
    return event;
  }

  private static Rejection trailingBytes(int count, Schema writer) {
    return new Rejection(
        DeadLetterReason.UNDECODABLE,
        count + " trailing bytes after a complete " + writer.getName() + " datum");
  }

  private Rejection unreadableFingerprint(Codecs c, long fingerprint) {
    String hex = String.format("%016x", fingerprint);
    return SchemaCatalogue.find(fingerprint)
        .map(
            known ->
                new Rejection(
                    DeadLetterReason.INCOMPATIBLE_SCHEMA,
                    "fingerprint "
                        + hex
                        + " is the schema of "
                        + known.getFullName()
                        + ", which cannot be read as "
                        + settings.eventTypeName()
                        + ": "
                        + incompatibility(c.current, known)))
        .orElseGet(
            () ->
                new Rejection(
                    DeadLetterReason.UNKNOWN_FINGERPRINT,
                    "fingerprint "
                        + hex
                        + " matches no known schema; "
                        + settings.eventTypeName()
                        + " accepts "
                        + c.readable.keySet().stream()
                            .map(fp -> String.format("%016x", fp))
                            .sorted()
                            .toList()));
  }

  private static String incompatibility(Schema reader, Schema writer) {
    List<Incompatibility> problems =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer)
            .getResult()
            .getIncompatibilities();
    if (problems.isEmpty()) {
      return "it is not a registered version of " + reader.getFullName();
    }
    Incompatibility first = problems.get(0);
    return first.getType() + " at " + first.getLocation() + " (" + first.getMessage() + ")";
  }

  /**
   * Walks the datum with its writer schema, reading no values, to prove that {@code bytes} from
   * {@code offset} hold exactly one datum: truncation and length prefixes pointing past the end
   * fail here. Only for records whose read failed: it names the failure as the record's shape.
   */
  private static void requireOneDatum(Codecs c, Schema writer, byte[] bytes, int offset)
      throws Rejection, IOException {
    BoundedBinaryDecoder in = c.decoder.configure(bytes, offset);
    try {
      GenericDatumReader.skip(writer, in);
    } catch (EOFException e) {
      throw new Rejection(
          DeadLetterReason.UNDECODABLE,
          "truncated: the record ends inside a " + writer.getName() + " datum");
    }
    if (in.remaining() > 0) {
      throw trailingBytes(in.remaining(), writer);
    }
  }

  private String key(Codecs c, GenericRecord event) throws Rejection {
    Object key = event.get(c.keyPosition);
    if (key == null) {
      throw new Rejection(
          DeadLetterReason.MISSING_KEY, "key field '" + settings.keyField() + "' is null");
    }
    String text = key.toString();
    if (text.isEmpty()) {
      throw new Rejection(
          DeadLetterReason.MISSING_KEY, "key field '" + settings.keyField() + "' is empty");
    }
    return text;
  }

  private long eventTime(Codecs c, GenericRecord event) throws Rejection {
    Object value = event.get(c.eventTimePosition);
    if (value == null) {
      throw new Rejection(
          DeadLetterReason.MISSING_EVENT_TIME,
          "event-time field '" + settings.eventTimeField() + "' is null");
    }
    long eventTime = (Long) value;
    if (eventTime < settings.minEventTime() || eventTime > settings.maxEventTime()) {
      throw new Rejection(
          DeadLetterReason.EVENT_TIME_OUT_OF_BOUNDS,
          "event-time field '"
              + settings.eventTimeField()
              + "' is "
              + eventTime
              + " ("
              + Instant.ofEpochMilli(eventTime)
              + "), outside the accepted ["
              + Instant.ofEpochMilli(settings.minEventTime())
              + ", "
              + Instant.ofEpochMilli(settings.maxEventTime())
              + "]");
    }
    return eventTime;
  }

  private static void requireFinite(Object datum, Schema type, String path) throws Rejection {
    switch (type.getType()) {
      case RECORD:
        GenericRecord record = (GenericRecord) datum;
        for (Schema.Field field : type.getFields()) {
          requireFinite(
              record.get(field.pos()),
              field.schema(),
              path.isEmpty() ? field.name() : path + "." + field.name());
        }
        break;
      case UNION:
        requireFinite(
            datum, type.getTypes().get(GenericData.get().resolveUnion(type, datum)), path);
        break;
      case ARRAY:
        int i = 0;
        for (Object item : (Collection<?>) datum) {
          requireFinite(item, type.getElementType(), path + "[" + i++ + "]");
        }
        break;
      case MAP:
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) datum).entrySet()) {
          requireFinite(entry.getValue(), type.getValueType(), path + "." + entry.getKey());
        }
        break;
      case FLOAT:
      case DOUBLE:
        double value = ((Number) datum).doubleValue();
        if (!Double.isFinite(value)) {
          throw new Rejection(
              DeadLetterReason.INVALID_VALUE,
              "field '" + path + "' is " + value + "; only finite numbers are accepted");
        }
        break;
      default:
        break;
    }
  }

  /** A message for a failure Avro or Jackson reported by exception: the deepest cause speaks. */
  private static String describe(Exception e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getCause() != cause) {
      if (cause instanceof StrictUtf8Data.InvalidUtf8Exception) {
        break;
      }
      cause = cause.getCause();
    }
    if (cause instanceof EOFException) {
      return "truncated: the record ends before the datum is complete";
    }
    String detail = cause.getMessage();
    String what =
        cause instanceof AvroRuntimeException || cause instanceof IOException
            ? "cannot decode"
            : "cannot decode (" + cause.getClass().getSimpleName() + ")";
    return detail == null ? what : what + ": " + detail;
  }

  /** A writer schema this type accepts, with its reader to the current schema. */
  private record Version(Schema writer, StrictUtf8Data.Reader<GenericRecord> reader) {

    static Version of(Schema writer, Schema current) {
      return new Version(writer, StrictUtf8Data.INSTANCE.reader(writer, current));
    }
  }

  /** Readers for one event type, built from the settings; not serialized. */
  private static final class Codecs {
    final Schema current;
    final Schema envelopeSchema;
    final int keyPosition;
    final int eventTimePosition;
    /** Versions this type accepts in single-object records, by fingerprint. */
    final Map<Long, Version> readable = new HashMap<>();

    final Version binary;
    final JsonEventReader json;

    /** Reused from record to record (re-targeted per record), as this decoder serves one thread. */
    final BoundedBinaryDecoder decoder = new BoundedBinaryDecoder();

    /** Set by each read: whether the event just read may hold a NaN or infinity. */
    boolean mayHoldNonFinite;

    /** The last version looked up: a topic's records mostly share one writer schema. */
    private long lastFingerprint;

    private Version lastVersion;

    Codecs(DecodeSettings settings) {
      current = settings.eventType().current();
      envelopeSchema = Envelopes.schema(current);
      keyPosition = current.getField(settings.keyField()).pos();
      eventTimePosition = current.getField(settings.eventTimeField()).pos();
      for (Schema version : settings.eventType().allVersions()) {
        if (SchemaCompatibility.checkReaderWriterCompatibility(current, version).getType()
            == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
          readable.put(SchemaCatalogue.fingerprint(version), Version.of(version, current));
        }
      }
      binary = Version.of(current, current);
      json = new JsonEventReader(current, settings.keyField(), settings.eventTimeField());
    }

    /** The accepted version with this fingerprint, or null. */
    Version version(long fingerprint) {
      if (lastVersion == null || fingerprint != lastFingerprint) {
        Version found = readable.get(fingerprint);
        if (found == null) {
          return null;
        }
        lastFingerprint = fingerprint;
        lastVersion = found;
      }
      return lastVersion;
    }
  }
}
