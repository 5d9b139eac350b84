package io.vigil.cep.cel;

import com.google.protobuf.NullValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;

/** Converts Avro records to the values CEL evaluates over (see {@link CelEnvironment}). */
public final class CelValues {

  /**
   * The last record converted on this thread and its fields: an event is tested by every rule and
   * every partial match it may extend, so converting it once saves most of the work.
   */
  private static final ThreadLocal<Object[]> LAST = ThreadLocal.withInitial(() -> new Object[2]);

  private CelValues() {}

  /** {@link #fields}, reusing the previous result when called again for the same record instance. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> cachedFields(GenericRecord record) {
    Object[] last = LAST.get();
    if (last[0] != record) {
      last[0] = record;
      last[1] = java.util.Collections.unmodifiableMap(fields(record));
    }
    return (Map<String, Object>) last[1];
  }

  /** The record's usable fields as a CEL map value (field name -> CEL value). */
  public static Map<String, Object> fields(GenericRecord record) {
    Map<String, Object> out = new HashMap<>();
    for (Schema.Field f : record.getSchema().getFields()) {
      if (CelEnvironment.celType(f.schema()).isPresent()) {
        out.put(f.name(), value(record.get(f.pos())));
      }
    }
    return out;
  }

  /**
   * One field of the record as {@link #fields} has it, or null when {@link #fields} leaves it out
   * (no such field, or a type CEL conditions cannot use).
   */
  public static Object field(GenericRecord record, String name) {
    Schema.Field f = record.getSchema().getField(name);
    if (f == null || CelEnvironment.celType(f.schema()).isEmpty()) {
      return null;
    }
    return value(record.get(f.pos()));
  }

  /** Adds a stage's variables to {@code activation}: the list of events and each field's list. */
  public static void putStage(
      Map<String, Object> activation, String stage, List<GenericRecord> events, Set<String> wanted) {
    if (wanted.contains(stage)) {
      List<Object> maps = new ArrayList<>(events.size());
      for (GenericRecord e : events) {
        maps.add(fields(e));
      }
      activation.put(stage, maps);
    }
    String prefix = stage + ".";
    for (String name : wanted) {
      if (name.startsWith(prefix)) {
        String field = name.substring(prefix.length());
        List<Object> values = new ArrayList<>(events.size());
        for (GenericRecord e : events) {
          values.add(value(e.get(field)));
        }
        activation.put(name, values);
      }
    }
  }

  /** One Avro value as a CEL value. */
  public static Object value(Object avro) {
    if (avro == null) {
      return NullValue.NULL_VALUE;
    }
    if (avro instanceof CharSequence || avro instanceof GenericEnumSymbol<?>) {
      return avro.toString();
    }
    if (avro instanceof Integer i) {
      return i.longValue();
    }
    if (avro instanceof Float f) {
      return f.doubleValue();
    }
    return avro;
  }
}
