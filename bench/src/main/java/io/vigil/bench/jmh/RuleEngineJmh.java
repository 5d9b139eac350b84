package io.vigil.bench.jmh;

import io.vigil.bench.cep.CepEngines;
import io.vigil.functions.event.Envelopes;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Vigil's dynamic rule engine per event with 1, 10 and 100 active rules (the benchmark rule under
 * as many ids), in Flink's operator harness with heap state: {@value #BATCH} events of 1,000
 * devices per invocation with a watermark (largest time minus 5 s) every 100, as a live stream.
 * The input repeats with event times shifted forward, so state stays at its steady size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class RuleEngineJmh {

  /** Events per benchmark invocation. */
  public static final int BATCH = 1000;

  @Param({"1", "10", "100"})
  public int rules;

  private CepEngines.Engine<GenericRecord> engine;
  private List<GenericRecord> envelopes;
  private long[] times;
  private long span;
  private long shift;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    envelopes = Inputs.envelopes(10 * BATCH, 1000);
    times = new long[envelopes.size()];
    for (int i = 0; i < times.length; i++) {
      times[i] = Envelopes.eventTime(envelopes.get(i));
    }
    span = times[times.length - 1] - times[0] + 60_000;
    engine = CepEngines.vigilEngine(envelopes.get(0).getSchema(), rules);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    engine.close();
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long events() throws Exception {
    long max = Long.MIN_VALUE;
    for (int k = 0; k < BATCH; k++) {
      int i = next++;
      if (i == envelopes.size()) {
        next = 1;
        i = 0;
        shift += span;
      }
      GenericRecord envelope = envelopes.get(i);
      // The same envelope object at a later time: the engine reads the time from the envelope.
      long t = times[i] + shift;
      envelope.put(Envelopes.EVENT_TIME, t);
      max = Math.max(max, t);
      engine.event(envelope, t);
      if (k % 100 == 99) {
        engine.watermark(max - 5_001);
      }
    }
    return engine.matches();
  }
}
