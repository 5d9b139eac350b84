package io.vigil.functions.window;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of one window of one group: a Flink POJO (public fields of POJO types only, so Flink
 * serializes it without Kryo), stored by {@link WindowAggregator} under the window start.
 *
 * <p>{@code revision} is the number of results already emitted for the window, so it is also the
 * revision of the next result. {@code metrics[i]} belongs to the i-th metric of the spec.
 */
public class WindowAccumulator {

  public long windowEnd;
  public int revision;
  public long count;
  public MetricAccumulator[] metrics;

  public WindowAccumulator() {}

  /** An accumulator with no events for a window ending (exclusive) at {@code windowEnd}. */
  public static WindowAccumulator empty(long windowEnd, int metricCount) {
    WindowAccumulator acc = new WindowAccumulator();
    acc.windowEnd = windowEnd;
    acc.metrics = new MetricAccumulator[metricCount];
    for (int i = 0; i < metricCount; i++) {
      acc.metrics[i] = new MetricAccumulator();
    }
    return acc;
  }

  /**
   * Adds one event: {@code values[i]} is the event's value of the i-th metric's field, null when
   * the value is null or the metric reads no field.
   */
  public void add(List<MetricSpec> specs, Object[] values) {
    count++;
    for (int i = 0; i < specs.size(); i++) {
      if (values[i] != null) {
        metrics[i].add(specs.get(i), values[i]);
      }
    }
  }

  /**
   * Folds in {@code other}, a window of the same group over disjoint events (sessions merging); the
   * revision continues from the most advanced of the two.
   */
  public void merge(List<MetricSpec> specs, WindowAccumulator other) {
    count += other.count;
    revision = Math.max(revision, other.revision);
    for (int i = 0; i < specs.size(); i++) {
      metrics[i].merge(specs.get(i), other.metrics[i]);
    }
  }

  /** Output name to value, in spec order. */
  public Map<String, Double> results(List<MetricSpec> specs) {
    Map<String, Double> values = new LinkedHashMap<>();
    for (int i = 0; i < specs.size(); i++) {
      values.put(specs.get(i).outputName(), metrics[i].result(specs.get(i), count));
    }
    return values;
  }
}
