package io.vigil.bench.jmh;

import io.vigil.functions.anomaly.AnomalyDetector;
import io.vigil.functions.anomaly.Detectors;
import io.vigil.schemas.SensorReading;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * One detector update (score the value, then learn it) on one key's model, past warm-up, on a
 * device's temperature series. The model is a heap object here; in a job it also goes through the
 * state backend once per event.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class DetectorBenchmark {

  @Param({"ewma", "robust-z", "likelihood", "discord"})
  public String detector;

  private AnomalyDetector<Object> model;
  private Object state;
  private double[] series;
  private long time;
  private int next;

  @Setup
  @SuppressWarnings("unchecked")
  public void setUp() {
    model = (AnomalyDetector<Object>) Detectors.create(detector);
    state = model.newState();
    // One device: with one device the generator's readings are that device's series.
    List<SensorReading> readings = Inputs.readings(4 * Inputs.CYCLE, 1);
    series = new double[Inputs.CYCLE];
    for (int i = 0; i < series.length; i++) {
      series[i] = readings.get(i).getTemperature();
    }
    // Past warm-up and with full histories: the steady-state cost.
    for (int i = 0; i < 3000; i++) {
      model.update(state, time += 10_000, series[i & (Inputs.CYCLE - 1)]);
    }
  }

  @Benchmark
  public Object update() {
    return model.update(state, time += 10_000, series[next++ & (Inputs.CYCLE - 1)]);
  }
}
