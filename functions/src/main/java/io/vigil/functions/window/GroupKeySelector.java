package io.vigil.functions.window;

import io.vigil.functions.event.Envelopes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.java.functions.KeySelector;

/**
 * Keys valid envelopes by the values of the group-by fields of their event.
 *
 * <p>The key is an unambiguous string encoding of the values in group-by order: each value is
 * written as {@code <length>:<value>}, and a null value (or a field the event does not have) as
 * {@code ~}. So ("a|b", "c") and ("a", "b|c") get different keys, and a null differs from the text
 * "null". {@link #decode} turns a key back into the field-to-value map of {@code
 * WindowAggregate.groupKey}. Values are taken in their string form ({@code toString()}).
 */
public final class GroupKeySelector implements KeySelector<GenericRecord, String> {

  private static final long serialVersionUID = 1L;
  private static final char NULL_MARK = '~';
  private static final char LENGTH_END = ':';

  private final List<String> groupBy;

  public GroupKeySelector(List<String> groupBy) {
    if (groupBy == null || groupBy.isEmpty()) {
      throw new IllegalArgumentException("group-by needs at least one field");
    }
    this.groupBy = List.copyOf(groupBy);
  }

  /** The selector for {@code spec}'s group-by fields. */
  public static GroupKeySelector of(AggregationSpec spec) {
    return new GroupKeySelector(spec.groupBy());
  }

  @Override
  public String getKey(GenericRecord envelope) {
    GenericRecord event = Envelopes.event(envelope);
    // Called for every record on both sides of each keyBy: no intermediate list.
    StringBuilder key = new StringBuilder();
    for (String field : groupBy) {
      Object value =
          event == null || event.getSchema().getField(field) == null ? null : event.get(field);
      append(key, value == null ? null : value.toString());
    }
    return key.toString();
  }

  /** The key for these group-by values (nulls allowed). */
  public static String encode(List<String> values) {
    StringBuilder key = new StringBuilder();
    for (String value : values) {
      append(key, value);
    }
    return key.toString();
  }

  private static void append(StringBuilder key, String value) {
    if (value == null) {
      key.append(NULL_MARK);
    } else {
      key.append(value.length()).append(LENGTH_END).append(value);
    }
  }

  /**
   * The group-by values encoded in {@code key}, in order (nulls where the value was null).
   *
   * @throws IllegalArgumentException if {@code key} was not made by {@link #encode}
   */
  public static List<String> decodeValues(String key) {
    List<String> values = new ArrayList<>();
    int i = 0;
    while (i < key.length()) {
      if (key.charAt(i) == NULL_MARK) {
        values.add(null);
        i++;
        continue;
      }
      int colon = key.indexOf(LENGTH_END, i);
      if (colon < 0) {
        throw new IllegalArgumentException("malformed group key: " + key);
      }
      int length;
      try {
        length = Integer.parseInt(key.substring(i, colon));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("malformed group key: " + key, e);
      }
      int end = colon + 1 + length;
      if (length < 0 || end > key.length()) {
        throw new IllegalArgumentException("malformed group key: " + key);
      }
      values.add(key.substring(colon + 1, end));
      i = end;
    }
    return values;
  }

  /**
   * The {@code WindowAggregate.groupKey} map for {@code key}: group-by field name to value, in
   * group-by order. Fields whose value was null are left out, since the Avro map holds only
   * strings.
   *
   * @throws IllegalArgumentException if {@code key} does not encode one value per group-by field
   */
  public static Map<String, String> decode(String key, List<String> groupBy) {
    List<String> values = decodeValues(key);
    if (values.size() != groupBy.size()) {
      throw new IllegalArgumentException(
          "group key " + key + " has " + values.size() + " values for group-by " + groupBy);
    }
    Map<String, String> groupKey = new LinkedHashMap<>();
    for (int i = 0; i < values.size(); i++) {
      if (values.get(i) != null) {
        groupKey.put(groupBy.get(i), values.get(i));
      }
    }
    return groupKey;
  }
}
