package io.vigil.functions.metrics;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.function.SerializableFunction;

/**
 * Passes records through unchanged while counting them by a class (for example dead letters by
 * reason), both as Flink metrics ({@code vigil.<name>.<class>}, live, for dashboards) and as
 * accumulators ({@code <name>.<class>}, totals in the job result, for the CLI's run summary).
 */
public final class CountingMap<T> extends RichMapFunction<T, T> {

  private static final long serialVersionUID = 1L;

  private final String name;
  private final SerializableFunction<T, String> classifier;
  private transient Map<String, Counter> metrics;
  private transient Map<String, LongCounter> totals;
  private transient MetricGroup group;

  /**
   * @param name metric group and accumulator prefix, e.g. {@code deadLetters}
   * @param classifier the class of a record, e.g. its reason; a constant to count all records alike
   */
  public CountingMap(String name, SerializableFunction<T, String> classifier) {
    this.name = name;
    this.classifier = classifier;
  }

  @Override
  public void open(OpenContext openContext) {
    metrics = new HashMap<>();
    totals = new HashMap<>();
    group = getRuntimeContext().getMetricGroup().addGroup("vigil").addGroup(name);
  }

  @Override
  public T map(T value) {
    String cls = classifier.apply(value);
    Counter metric = metrics.get(cls);
    if (metric == null) {
      metric = group.counter(cls);
      metrics.put(cls, metric);
      LongCounter total = new LongCounter();
      getRuntimeContext().addAccumulator(name + "." + cls, total);
      totals.put(cls, total);
    }
    metric.inc();
    totals.get(cls).add(1L);
    return value;
  }
}
