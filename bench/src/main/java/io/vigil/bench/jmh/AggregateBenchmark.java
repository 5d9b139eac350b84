package io.vigil.bench.jmh;

import io.vigil.functions.event.Envelopes;
import io.vigil.functions.window.MetricSpec;
import io.vigil.functions.window.WindowAccumulator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One event added to a window's accumulator ({@link WindowAccumulator}, as Vigil's window
 * aggregator keeps it), per aggregate function, with the window's result computed and a new window
 * started every {@value #WINDOW} events, so sketch finalisation is included, amortised. Heap only:
 * state-backend serialization is in the throughput table.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class AggregateBenchmark {

  /** Events per window: a one-minute window of a busy key. */
  static final int WINDOW = 1000;

  @Param({"count", "sum(temperature)", "avg(temperature)", "stddev(temperature)", "distinct(deviceId)", "p95(temperature)"})
  public String metric;

  private List<MetricSpec> specs;
  private Object[][] values;
  private WindowAccumulator window;
  private int next;

  @Setup
  public void setUp() {
    specs = List.of(MetricSpec.parse(metric));
    MetricSpec spec = specs.get(0);
    List<GenericRecord> events = Inputs.envelopes(Inputs.CYCLE, 1000).stream().map(Envelopes::event).toList();
    values = new Object[events.size()][];
    for (int i = 0; i < values.length; i++) {
      values[i] = new Object[] {spec.field() == null ? null : events.get(i).get(spec.field())};
    }
    window = WindowAccumulator.empty(Long.MAX_VALUE, 1);
  }

  @Benchmark
  public Object add() {
    int i = next++;
    window.add(specs, values[i & (Inputs.CYCLE - 1)]);
    if (i % WINDOW == WINDOW - 1) {
      Map<String, Double> results = window.results(specs);
      window = WindowAccumulator.empty(Long.MAX_VALUE, 1);
      return results;
    }
    return window;
  }
}
