package io.vigil.bench.pipeline;

import io.vigil.bench.CountingSink;
import io.vigil.bench.Dataset;
import io.vigil.bench.MemorySource;
import io.vigil.functions.anomaly.EwmaDetector;
import io.vigil.jobs.spec.CompiledSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.cep.CEP;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The "hand-written" row: what a Flink developer would write by hand for {@code bench-spec.yaml}
 * and {@code temperature-spike.yaml}, with Flink's own building blocks and the same semantics:
 *
 * <ul>
 *   <li>the same source and decoder (Vigil's), then the job's own POJO ({@link Reading});
 *       records that fail validation go to a dead-letter sink;
 *   <li>{@code device-1m} and {@code site-5m} with Flink's window API ({@link
 *       TumblingEventTimeWindows}, {@link SlidingEventTimeWindows}), an incremental {@link
 *       AggregateFunction} (count, mean, min, max, Welford variance), allowed lateness 30 s, late
 *       records to the dead-letter sink;
 *   <li>the same {@link EwmaDetector} called directly from a {@link KeyedProcessFunction} with the
 *       model in a {@link ValueState} and the same idle-key cleanup timer as Vigil's scorer;
 *   <li>the rule as a static Flink CEP pattern written with the Pattern API: any reading, then
 *       the next one at least 10 degrees higher, within 5 minutes, skip past the last event.
 * </ul>
 *
 * It runs with the same Flink configuration as the Vigil job (RocksDB, incremental checkpoints,
 * heap timers, object reuse, no Kryo). Counts: {@code hand.aggregates}, {@code hand.scores},
 * {@code hand.alerts}, {@code hand.dead-letters}.
 */
public final class HandWrittenJob {

  public static final String AGGREGATES = "hand.aggregates";
  public static final String SCORES = "hand.scores";
  public static final String ALERTS = "hand.alerts";
  public static final String DEAD_LETTERS = "hand.dead-letters";

  private static final OutputTag<Reading> FAILED = new OutputTag<>("failed", TypeInformation.of(Reading.class));
  private static final OutputTag<Reading> LATE_DEVICE = new OutputTag<>("late-device", TypeInformation.of(Reading.class));
  private static final OutputTag<Reading> LATE_SITE = new OutputTag<>("late-site", TypeInformation.of(Reading.class));

  private static final TypeInformation<StatsAccumulator> STATS = TypeInformation.of(StatsAccumulator.class);

  private HandWrittenJob() {}

  /** The job's sinks, one per output. */
  public record Sinks(Sink<WindowResult> aggregates, Sink<Score> scores, Sink<SpikeAlert> alerts, Sink<Reading> deadLetters) {
    public static Sinks counting() {
      return new Sinks(
          new CountingSink<>(AGGREGATES), new CountingSink<>(SCORES), new CountingSink<>(ALERTS), new CountingSink<>(DEAD_LETTERS));
    }
  }

  /** Adds the job to {@code env}, reading {@code dataset} once. */
  public static void build(StreamExecutionEnvironment env, CompiledSpec spec, Dataset dataset) {
    build(env, spec, MemorySource.of(dataset, new ReadingConverter(spec.decode())), Sinks.counting());
  }

  /** Adds the job to {@code env}; {@code env} must already have the spec's job configuration. */
  public static void build(StreamExecutionEnvironment env, CompiledSpec spec, Source<Reading, ?, ?> source, Sinks sinks) {
    WatermarkStrategy<Reading> watermarks =
        WatermarkStrategy.<Reading>forBoundedOutOfOrderness(spec.maxOutOfOrderness())
            .withIdleness(spec.idleTimeout())
            .withTimestampAssigner((r, ts) -> r.eventTime);
    SingleOutputStreamOperator<Reading> valid =
        env.fromSource(source, watermarks, "Source: readings", TypeInformation.of(Reading.class))
            .uid("source")
            .process(new RouteFailed())
            .uid("route-failed")
            .name("Route failed records");
    DataStream<Reading> deadLetters = valid.getSideOutput(FAILED);

    KeyedStream<Reading, String> byDevice = valid.keyBy(r -> r.deviceId, Types.STRING);
    SingleOutputStreamOperator<WindowResult> device =
        byDevice
            .window(TumblingEventTimeWindows.of(Duration.ofMinutes(1)))
            .allowedLateness(Duration.ofSeconds(30))
            .sideOutputLateData(LATE_DEVICE)
            .aggregate(new Stats(), new ToResult("device-1m"), STATS, STATS, TypeInformation.of(WindowResult.class))
            .uid("window-device-1m")
            .name("Window device-1m");
    SingleOutputStreamOperator<WindowResult> site =
        valid
            .keyBy(r -> r.site, Types.STRING)
            .window(SlidingEventTimeWindows.of(Duration.ofMinutes(5), Duration.ofMinutes(1)))
            .allowedLateness(Duration.ofSeconds(30))
            .sideOutputLateData(LATE_SITE)
            .aggregate(new Stats(), new ToResult("site-5m"), STATS, STATS, TypeInformation.of(WindowResult.class))
            .uid("window-site-5m")
            .name("Window site-5m");
    device.union(site).sinkTo(sinks.aggregates()).uid("sink-aggregates").name("Sink: aggregates");
    deadLetters = deadLetters.union(device.getSideOutput(LATE_DEVICE), site.getSideOutput(LATE_SITE));

    byDevice
        .process(new ScoreEwma(Duration.ofHours(1), 0.9))
        .returns(TypeInformation.of(Score.class))
        .uid("detector-device-temperature")
        .name("EWMA temperature")
        .sinkTo(sinks.scores())
        .uid("sink-scores")
        .name("Sink: scores");

    CEP.pattern(byDevice, spikePattern())
        .inEventTime()
        .process(new ToAlert())
        .returns(TypeInformation.of(SpikeAlert.class))
        .uid("cep-temperature-spike")
        .name("CEP temperature-spike")
        .sinkTo(sinks.alerts())
        .uid("sink-alerts")
        .name("Sink: alerts");

    deadLetters.sinkTo(sinks.deadLetters()).uid("sink-dead-letters").name("Sink: dead letters");
  }

  /** {@code temperature-spike.yaml} with Flink's Pattern API. */
  public static Pattern<Reading, Reading> spikePattern() {
    return Pattern.<Reading>begin("before", AfterMatchSkipStrategy.skipPastLastEvent())
        .next("spike")
        .where(new SpikeCondition())
        .within(Duration.ofMinutes(5));
  }

  /** At least 10 degrees above the last "before" reading. */
  private static final class SpikeCondition extends IterativeCondition<Reading> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean filter(Reading reading, Context<Reading> ctx) throws Exception {
      Reading before = null;
      for (Reading r : ctx.getEventsForPattern("before")) {
        before = r;
      }
      return before != null && reading.temperature >= before.temperature + 10.0;
    }
  }

  private static final class RouteFailed extends ProcessFunction<Reading, Reading> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(Reading reading, Context ctx, Collector<Reading> out) {
      if (reading.failure == null) {
        out.collect(reading);
      } else {
        ctx.output(FAILED, reading);
      }
    }
  }

  /** Running count, sum, min, max and Welford mean and M2 of the temperature. */
  public static class StatsAccumulator {
    public long count;
    public double min = Double.POSITIVE_INFINITY;
    public double max = Double.NEGATIVE_INFINITY;
    public double mean;
    public double m2;

    public StatsAccumulator() {}
  }

  private static final class Stats implements AggregateFunction<Reading, StatsAccumulator, StatsAccumulator> {
    private static final long serialVersionUID = 1L;

    @Override
    public StatsAccumulator createAccumulator() {
      return new StatsAccumulator();
    }

    @Override
    public StatsAccumulator add(Reading r, StatsAccumulator acc) {
      double x = r.temperature;
      acc.count++;
      acc.min = Math.min(acc.min, x);
      acc.max = Math.max(acc.max, x);
      double delta = x - acc.mean;
      acc.mean += delta / acc.count;
      acc.m2 += delta * (x - acc.mean);
      return acc;
    }

    @Override
    public StatsAccumulator getResult(StatsAccumulator acc) {
      return acc;
    }

    @Override
    public StatsAccumulator merge(StatsAccumulator a, StatsAccumulator b) {
      StatsAccumulator m = new StatsAccumulator();
      m.count = a.count + b.count;
      m.min = Math.min(a.min, b.min);
      m.max = Math.max(a.max, b.max);
      if (m.count > 0) {
        double delta = b.mean - a.mean;
        m.mean = a.mean + delta * b.count / m.count;
        m.m2 = a.m2 + b.m2 + delta * delta * a.count * b.count / m.count;
      }
      return m;
    }
  }

  /** One window's result. */
  public static class WindowResult {
    public String aggregation;
    public String key;
    public long start;
    public long end;
    public long count;
    public double avg;
    public double min;
    public double max;
    public double stddev;

    public WindowResult() {}
  }

  private static final class ToResult extends ProcessWindowFunction<StatsAccumulator, WindowResult, String, TimeWindow> {
    private static final long serialVersionUID = 1L;
    private final String aggregation;

    ToResult(String aggregation) {
      this.aggregation = aggregation;
    }

    @Override
    public void process(String key, Context ctx, Iterable<StatsAccumulator> accs, Collector<WindowResult> out) {
      StatsAccumulator acc = accs.iterator().next();
      WindowResult r = new WindowResult();
      r.aggregation = aggregation;
      r.key = key;
      r.start = ctx.window().getStart();
      r.end = ctx.window().getEnd();
      r.count = acc.count;
      r.avg = acc.mean;
      r.min = acc.min;
      r.max = acc.max;
      r.stddev = Math.sqrt(acc.m2 / acc.count);
      out.collect(r);
    }
  }

  /** One scored reading. */
  public static class Score {
    public String key;
    public long eventTime;
    public long position;
    public double value;
    public double score;
    public boolean anomalous;
    public boolean warmUp;

    public Score() {}
  }

  /** Vigil's EWMA detector on the temperature, per device, with the scorer's idle-key cleanup. */
  private static final class ScoreEwma extends KeyedProcessFunction<String, Reading, Score> {
    private static final long serialVersionUID = 1L;
    private final long idleMillis;
    private final double threshold;
    private final EwmaDetector detector = new EwmaDetector();
    private transient ValueState<EwmaDetector.State> model;
    private transient ValueState<Long> cleanupAt;

    ScoreEwma(Duration idle, double threshold) {
      this.idleMillis = idle.toMillis();
      this.threshold = threshold;
    }

    @Override
    public void open(OpenContext openContext) {
      model = getRuntimeContext().getState(new ValueStateDescriptor<>("model", detector.stateType()));
      cleanupAt = getRuntimeContext().getState(new ValueStateDescriptor<>("cleanup-at", Types.LONG));
    }

    @Override
    public void processElement(Reading r, Context ctx, Collector<Score> out) throws Exception {
      EwmaDetector.State state = model.value();
      if (state == null) {
        state = detector.newState();
      }
      var result = detector.update(state, r.eventTime, r.temperature);
      model.update(state);
      Score s = new Score();
      s.key = r.deviceId;
      s.eventTime = r.eventTime;
      s.position = r.position;
      s.value = r.temperature;
      s.score = result.score();
      s.warmUp = result.warmUp();
      s.anomalous = !result.warmUp() && result.score() >= threshold;
      out.collect(s);
      long due = r.eventTime + idleMillis;
      Long current = cleanupAt.value();
      if (current == null || current < due) {
        if (current != null) {
          ctx.timerService().deleteEventTimeTimer(current);
        }
        ctx.timerService().registerEventTimeTimer(due);
        cleanupAt.update(due);
      }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Score> out) throws Exception {
      Long due = cleanupAt.value();
      if (due != null && due == timestamp) {
        model.clear();
        cleanupAt.clear();
      }
    }
  }

  /** One match of the spike pattern. */
  public static class SpikeAlert {
    public String key;
    public String before;
    public String spike;
    public long time;
    public long position;

    public SpikeAlert() {}
  }

  private static final class ToAlert extends PatternProcessFunction<Reading, SpikeAlert> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processMatch(Map<String, List<Reading>> match, Context ctx, Collector<SpikeAlert> out) {
      Reading before = match.get("before").get(0);
      Reading spike = match.get("spike").get(0);
      SpikeAlert a = new SpikeAlert();
      a.key = spike.deviceId;
      a.before = before.eventId;
      a.spike = spike.eventId;
      a.time = spike.eventTime;
      a.position = spike.position;
      out.collect(a);
    }
  }
}
