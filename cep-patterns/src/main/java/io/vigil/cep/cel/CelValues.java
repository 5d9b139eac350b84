package io.vigil.cep.cel;

import com.google.protobuf.NullValue;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;

/**
 * Converts Avro records to the values CEL evaluates over (see {@link CelEnvironment}).
 *
 * <p>A record's fields are a read-only {@link Map} view that converts a field when CEL reads it: a
 * condition reads one or two fields of an event, so converting every field up front (one map
 * per event and evaluation) cost more than the evaluation itself. Which fields a schema exposes
 * is worked out once per schema.
 */
public final class CelValues {

  /** Per schema, its usable fields (name -> position) in schema order. */
  private static final Map<Schema, Map<String, Integer>> LAYOUTS = new ConcurrentHashMap<>();

  private CelValues() {}

  /** The record's usable fields as a CEL map value (field name -> CEL value). */
  public static Map<String, Object> fields(GenericRecord record) {
    return new RecordFields(record, layout(record.getSchema()));
  }

  /**
   * One field of the record as {@link #fields} has it, or null when {@link #fields} leaves it out
   * (no such field, or a type CEL conditions cannot use).
   */
  public static Object field(GenericRecord record, String name) {
    Integer pos = layout(record.getSchema()).get(name);
    return pos == null ? null : value(record.get(pos));
  }

  /** Adds a stage's variables to {@code activation}: the list of events and each field's list. */
  public static void putStage(
      Map<String, Object> activation, String stage, List<GenericRecord> events, Set<String> wanted) {
    if (wanted.contains(stage)) {
      activation.put(stage, stageList(events));
    }
    String prefix = stage + ".";
    for (String name : wanted) {
      if (name.startsWith(prefix)) {
        activation.put(name, projection(events, name.substring(prefix.length())));
      }
    }
  }

  /** A stage variable ({@code small}): its events as CEL maps. */
  static List<Object> stageList(List<GenericRecord> events) {
    List<Object> maps = new ArrayList<>(events.size());
    for (GenericRecord e : events) {
      maps.add(fields(e));
    }
    return maps;
  }

  /** A stage field's projection ({@code small.amount}): that field's value for each event. */
  static List<Object> projection(List<GenericRecord> events, String field) {
    List<Object> values = new ArrayList<>(events.size());
    for (GenericRecord e : events) {
      values.add(value(e.get(field)));
    }
    return values;
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

  private static Map<String, Integer> layout(Schema schema) {
    Map<String, Integer> layout = LAYOUTS.get(schema);
    if (layout == null) {
      Map<String, Integer> positions = new LinkedHashMap<>();
      for (Schema.Field f : schema.getFields()) {
        if (CelEnvironment.celType(f.schema()).isPresent()) {
          positions.put(f.name(), f.pos());
        }
      }
      layout = Collections.unmodifiableMap(positions);
      LAYOUTS.putIfAbsent(schema, layout);
    }
    return layout;
  }

  /** A record's usable fields, converted on each read; equal to the map of all of them converted. */
  private static final class RecordFields extends AbstractMap<String, Object> {
    private final GenericRecord record;
    private final Map<String, Integer> layout;

    RecordFields(GenericRecord record, Map<String, Integer> layout) {
      this.record = record;
      this.layout = layout;
    }

    @Override
    public Object get(Object key) {
      Integer pos = layout.get(key);
      return pos == null ? null : value(record.get(pos));
    }

    @Override
    public boolean containsKey(Object key) {
      return layout.containsKey(key);
    }

    @Override
    public int size() {
      return layout.size();
    }

    @Override
    public Set<Entry<String, Object>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public Iterator<Entry<String, Object>> iterator() {
          Iterator<Entry<String, Integer>> fields = layout.entrySet().iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return fields.hasNext();
            }

            @Override
            public Entry<String, Object> next() {
              Entry<String, Integer> f = fields.next();
              return new SimpleImmutableEntry<>(f.getKey(), value(record.get(f.getValue())));
            }
          };
        }

        @Override
        public int size() {
          return layout.size();
        }
      };
    }
  }
}
