package io.vigil.functions.ingest;

import io.vigil.schemas.EventTypes;
import io.vigil.schemas.EventTypes.EventType;
import java.io.Serializable;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/**
 * How {@link EventDecoder} turns record bytes into events of one event type, and which events it
 * accepts. Immutable; every instance is validated on construction, so a job fails at graph-build
 * time, not on its first record, when a setting does not fit the event schema.
 *
 * <p>Start from {@link #defaults(String, String, String)} and change single settings with the
 * {@code with...} methods.
 *
 * @param eventTypeName an event type known to {@link EventTypes}, for example {@code SensorReading}
 * @param format the wire format of the input records
 * @param keyField top-level field holding the entity key: a string, enum, int or long, possibly
 *     nullable
 * @param eventTimeField top-level field holding the event time in epoch millis: a long, plain or
 *     {@code timestamp-millis}, possibly nullable
 * @param maxRecordBytes records longer than this are rejected before decoding
 * @param minEventTime smallest accepted event time, epoch millis, inclusive
 * @param maxEventTime largest accepted event time, epoch millis, inclusive
 * @param rejectNonFiniteNumbers whether NaN and infinite float/double values make a record invalid
 */
public record DecodeSettings(
    String eventTypeName,
    WireFormat format,
    String keyField,
    String eventTimeField,
    int maxRecordBytes,
    long minEventTime,
    long maxEventTime,
    boolean rejectNonFiniteNumbers)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
  public static final long DEFAULT_MIN_EVENT_TIME =
      Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();
  public static final long DEFAULT_MAX_EVENT_TIME =
      Instant.parse("2100-01-01T00:00:00Z").toEpochMilli();

  private static final Set<Schema.Type> KEY_TYPES =
      EnumSet.of(Schema.Type.STRING, Schema.Type.ENUM, Schema.Type.INT, Schema.Type.LONG);

  /** Validates every setting against the event type's current schema. */
  public DecodeSettings {
    Objects.requireNonNull(eventTypeName, "eventTypeName");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(keyField, "keyField");
    Objects.requireNonNull(eventTimeField, "eventTimeField");
    EventType type =
        EventTypes.find(eventTypeName)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "unknown event type '"
                            + eventTypeName
                            + "'; known types: "
                            + EventTypes.names()));
    Schema current = type.current();
    Schema keyType = nonNullType(current, keyField, "key field");
    if (!KEY_TYPES.contains(keyType.getType())) {
      throw new IllegalArgumentException(
          "key field '"
              + keyField
              + "' of "
              + eventTypeName
              + " has type "
              + keyType.getType().getName()
              + "; a key must be a string, enum, int or long");
    }
    Schema timeType = nonNullType(current, eventTimeField, "event-time field");
    LogicalType logical = timeType.getLogicalType();
    if (timeType.getType() != Schema.Type.LONG
        || (logical != null && !(logical instanceof LogicalTypes.TimestampMillis))) {
      throw new IllegalArgumentException(
          "event-time field '"
              + eventTimeField
              + "' of "
              + eventTypeName
              + " has type "
              + (logical == null ? timeType.getType().getName() : logical.getName())
              + "; it must be a long of epoch millis (plain or timestamp-millis)");
    }
    if (maxRecordBytes <= 0) {
      throw new IllegalArgumentException(
          "maxRecordBytes must be positive, got " + maxRecordBytes);
    }
    if (minEventTime > maxEventTime) {
      throw new IllegalArgumentException(
          "minEventTime "
              + Instant.ofEpochMilli(minEventTime)
              + " is after maxEventTime "
              + Instant.ofEpochMilli(maxEventTime));
    }
  }

  /**
   * Settings with the defaults: {@link WireFormat#AUTO}, 1 MiB records, event times in
   * [2000-01-01T00:00:00Z, 2100-01-01T00:00:00Z], non-finite numbers rejected.
   */
  public static DecodeSettings defaults(String eventTypeName, String keyField, String eventTimeField) {
    return new DecodeSettings(
        eventTypeName,
        WireFormat.AUTO,
        keyField,
        eventTimeField,
        DEFAULT_MAX_RECORD_BYTES,
        DEFAULT_MIN_EVENT_TIME,
        DEFAULT_MAX_EVENT_TIME,
        true);
  }

  public DecodeSettings withFormat(WireFormat newFormat) {
    return new DecodeSettings(
        eventTypeName, newFormat, keyField, eventTimeField, maxRecordBytes, minEventTime,
        maxEventTime, rejectNonFiniteNumbers);
  }

  public DecodeSettings withMaxRecordBytes(int newMaxRecordBytes) {
    return new DecodeSettings(
        eventTypeName, format, keyField, eventTimeField, newMaxRecordBytes, minEventTime,
        maxEventTime, rejectNonFiniteNumbers);
  }

  /** Accepted event times, epoch millis, both bounds inclusive. */
  public DecodeSettings withEventTimeBounds(long newMinEventTime, long newMaxEventTime) {
    return new DecodeSettings(
        eventTypeName, format, keyField, eventTimeField, maxRecordBytes, newMinEventTime,
        newMaxEventTime, rejectNonFiniteNumbers);
  }

  public DecodeSettings withRejectNonFiniteNumbers(boolean reject) {
    return new DecodeSettings(
        eventTypeName, format, keyField, eventTimeField, maxRecordBytes, minEventTime,
        maxEventTime, reject);
  }

  /** The event type these settings decode. */
  public EventType eventType() {
    return EventTypes.find(eventTypeName).orElseThrow();
  }

  /** The field's type with a {@code null} union branch removed. */
  private static Schema nonNullType(Schema record, String fieldName, String role) {
    Schema.Field field = record.getField(fieldName);
    if (field == null) {
      throw new IllegalArgumentException(
          role + " '" + fieldName + "' is not a field of " + record.getFullName());
    }
    Schema type = field.schema();
    if (type.getType() != Schema.Type.UNION) {
      return type;
    }
    Schema nonNull = null;
    for (Schema branch : type.getTypes()) {
      if (branch.getType() == Schema.Type.NULL) {
        continue;
      }
      if (nonNull != null) {
        throw new IllegalArgumentException(
            role + " '" + fieldName + "' is a union of several types; it must be X or [null, X]");
      }
      nonNull = branch;
    }
    if (nonNull == null) {
      throw new IllegalArgumentException(role + " '" + fieldName + "' can only be null");
    }
    return nonNull;
  }
}
