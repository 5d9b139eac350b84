package io.vigil.functions.window;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.avro.Schema;

/**
 * What one event-time window aggregation computes: the window shape, the allowed lateness, the
 * group-by fields and the metrics.
 *
 * <p>Build one with {@link #tumbling}, {@link #sliding} or {@link #session}; each validates its
 * arguments and throws {@link IllegalArgumentException} naming the problem. Tumbling and sliding
 * windows are aligned to epoch 0, as Flink's window assigners are. Durations are used at
 * millisecond precision and must be whole milliseconds. Call {@link #checkAgainst(Schema)} at
 * graph-build time to make sure the group-by and metric fields exist in the event schema with
 * suitable types.
 *
 * <p>Instances are immutable and serializable.
 */
public final class AggregationSpec implements Serializable {

  private static final long serialVersionUID = 1L;

  /** The window shape. */
  public enum WindowKind {
    TUMBLING,
    SLIDING,
    SESSION
  }

  private final String name;
  private final WindowKind kind;
  private final Duration size;
  private final Duration slide;
  private final Duration gap;
  private final Duration allowedLateness;
  private final List<String> groupBy;
  private final List<MetricSpec> metrics;

  private AggregationSpec(
      String name,
      WindowKind kind,
      Duration size,
      Duration slide,
      Duration gap,
      Duration allowedLateness,
      List<String> groupBy,
      List<MetricSpec> metrics) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("aggregation name must not be blank");
    }
    this.name = name;
    this.kind = kind;
    this.size = size;
    this.slide = slide;
    this.gap = gap;
    this.allowedLateness = requireMillis(allowedLateness, "allowed lateness", true, name);
    this.groupBy = validGroupBy(groupBy, name);
    this.metrics = validMetrics(metrics, name);
  }

  /** Fixed, non-overlapping windows of {@code size}: [k * size, (k + 1) * size). */
  public static AggregationSpec tumbling(
      String name,
      Duration size,
      Duration allowedLateness,
      List<String> groupBy,
      List<MetricSpec> metrics) {
    requireMillis(size, "window size", false, name);
    return new AggregationSpec(
        name, WindowKind.TUMBLING, size, null, null, allowedLateness, groupBy, metrics);
  }

  /**
   * Windows of {@code size} starting every {@code slide}: [k * slide, k * slide + size). An event
   * belongs to about size / slide windows. {@code 0 < slide <= size}.
   */
  public static AggregationSpec sliding(
      String name,
      Duration size,
      Duration slide,
      Duration allowedLateness,
      List<String> groupBy,
      List<MetricSpec> metrics) {
    requireMillis(size, "window size", false, name);
    requireMillis(slide, "window slide", false, name);
    if (slide.compareTo(size) > 0) {
      throw new IllegalArgumentException(
          "aggregation '"
              + name
              + "': window slide "
              + slide
              + " must not be longer than window size "
              + size);
    }
    return new AggregationSpec(
        name, WindowKind.SLIDING, size, slide, null, allowedLateness, groupBy, metrics);
  }

  /**
   * Session windows: each event opens [t, t + gap), and windows of a group that overlap or touch
   * merge, as in Flink's {@code EventTimeSessionWindows}.
   */
  public static AggregationSpec session(
      String name,
      Duration gap,
      Duration allowedLateness,
      List<String> groupBy,
      List<MetricSpec> metrics) {
    requireMillis(gap, "session gap", false, name);
    return new AggregationSpec(
        name, WindowKind.SESSION, null, null, gap, allowedLateness, groupBy, metrics);
  }

  private static Duration requireMillis(Duration d, String what, boolean zeroAllowed, String name) {
    String prefix = "aggregation '" + name + "': ";
    if (d == null) {
      throw new IllegalArgumentException(prefix + what + " must be given");
    }
    if (d.isNegative() || (!zeroAllowed && d.isZero())) {
      throw new IllegalArgumentException(
          prefix + what + " must be " + (zeroAllowed ? "zero or more" : "positive") + ", got " + d);
    }
    if (d.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          prefix + what + " must be a whole number of milliseconds, got " + d);
    }
    return d;
  }

  private static List<String> validGroupBy(List<String> groupBy, String name) {
    if (groupBy == null || groupBy.isEmpty()) {
      throw new IllegalArgumentException(
          "aggregation '" + name + "': group-by needs at least one field");
    }
    Set<String> seen = new HashSet<>();
    for (String field : groupBy) {
      if (field == null || field.isBlank()) {
        throw new IllegalArgumentException(
            "aggregation '" + name + "': group-by field names must not be blank");
      }
      if (!seen.add(field)) {
        throw new IllegalArgumentException(
            "aggregation '" + name + "': group-by field '" + field + "' is listed twice");
      }
    }
    return List.copyOf(groupBy);
  }

  private static List<MetricSpec> validMetrics(List<MetricSpec> metrics, String name) {
    if (metrics == null || metrics.isEmpty()) {
      throw new IllegalArgumentException("aggregation '" + name + "': needs at least one metric");
    }
    Set<String> seen = new HashSet<>();
    for (MetricSpec metric : metrics) {
      Objects.requireNonNull(metric, "metric");
      if (!seen.add(metric.outputName())) {
        throw new IllegalArgumentException(
            "aggregation '"
                + name
                + "': two metrics have the output name '"
                + metric.outputName()
                + "'");
      }
    }
    return List.copyOf(metrics);
  }

  /**
   * Checks that every group-by and metric field exists in {@code eventSchema} and that numeric
   * metrics read an int, long, float or double field (nullable allowed).
   *
   * @throws IllegalArgumentException listing every problem found
   */
  public void checkAgainst(Schema eventSchema) {
    List<String> problems = new ArrayList<>();
    for (String field : groupBy) {
      if (eventSchema.getField(field) == null) {
        problems.add("group-by field '" + field + "' is not in " + eventSchema.getFullName());
      }
    }
    for (MetricSpec metric : metrics) {
      if (metric.field() == null) {
        continue;
      }
      Schema.Field field = eventSchema.getField(metric.field());
      if (field == null) {
        problems.add(
            "metric "
                + metric
                + ": field '"
                + metric.field()
                + "' is not in "
                + eventSchema.getFullName());
      } else if (metric.isNumeric() && !isNumeric(field.schema())) {
        problems.add(
            "metric "
                + metric
                + ": field '"
                + metric.field()
                + "' is of type "
                + typeName(field.schema())
                + ", not a number");
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "aggregation '" + name + "': " + String.join("; ", problems));
    }
  }

  private static String typeName(Schema schema) {
    return schema.getType() == Schema.Type.UNION
        ? String.join(" or ", schema.getTypes().stream().map(AggregationSpec::typeName).toList())
        : schema.getType().getName();
  }

  private static boolean isNumeric(Schema schema) {
    return switch (schema.getType()) {
      case INT, LONG, FLOAT, DOUBLE -> true;
      case UNION -> {
        List<Schema> branches = schema.getTypes();
        long numeric = branches.stream().filter(AggregationSpec::isNumeric).count();
        long nulls = branches.stream().filter(b -> b.getType() == Schema.Type.NULL).count();
        yield numeric == 1 && numeric + nulls == branches.size();
      }
      default -> false;
    };
  }

  public String name() {
    return name;
  }

  public WindowKind kind() {
    return kind;
  }

  /** Window size; null for sessions. */
  public Duration size() {
    return size;
  }

  /** Window slide; null unless sliding. */
  public Duration slide() {
    return slide;
  }

  /** Session gap; null unless session. */
  public Duration gap() {
    return gap;
  }

  public Duration allowedLateness() {
    return allowedLateness;
  }

  public List<String> groupBy() {
    return groupBy;
  }

  public List<MetricSpec> metrics() {
    return metrics;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AggregationSpec other
        && name.equals(other.name)
        && kind == other.kind
        && Objects.equals(size, other.size)
        && Objects.equals(slide, other.slide)
        && Objects.equals(gap, other.gap)
        && allowedLateness.equals(other.allowedLateness)
        && groupBy.equals(other.groupBy)
        && metrics.equals(other.metrics);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, kind, size, slide, gap, allowedLateness, groupBy, metrics);
  }

  @Override
  public String toString() {
    String shape =
        switch (kind) {
          case TUMBLING -> "tumbling " + size;
          case SLIDING -> "sliding " + size + " every " + slide;
          case SESSION -> "session gap " + gap;
        };
    return name
        + " ("
        + shape
        + ", lateness "
        + allowedLateness
        + ", by "
        + groupBy
        + ", "
        + metrics
        + ")";
  }
}
