package io.vigil.functions.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.WindowAggregate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs the window aggregation on a MiniCluster at parallelism 2 with generic types disabled, so any
 * Kryo fallback in records or state fails the job, and checks results against an oracle.
 */
class WindowAggregatorITCase {

  private static final int PARALLELISM = 2;
  private static final long WINDOW = 10_000;

  @RegisterExtension
  static final MiniClusterExtension MINI_CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(PARALLELISM)
              .build());

  @Test
  void aggregatesKeyedEnvelopesWithoutGenericTypesAndDeadLettersLateOnes() throws Exception {
    AggregationSpec spec =
        AggregationSpec.tumbling(
            "per-device-10s",
            Duration.ofMillis(WINDOW),
            Duration.ZERO,
            List.of("deviceId"),
            List.of(
                MetricSpec.count(),
                MetricSpec.parse("sum(temperature)"),
                MetricSpec.parse("min(temperature)"),
                MetricSpec.parse("max(temperature)"),
                MetricSpec.parse("stddev(temperature)"),
                MetricSpec.parse("distinct(site)"),
                MetricSpec.parse("p50(temperature)")));
    spec.checkAgainst(SensorReading.getClassSchema());

    Readings readings = new Readings();
    Random random = new Random(11);
    List<GenericRecord> envelopes = new ArrayList<>();
    Map<String, List<double[]>> oracle = new HashMap<>();
    Map<String, List<String>> oracleSites = new HashMap<>();
    List<Long> lateOffsets = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      long time = i * 200L;
      String device = "d" + random.nextInt(8);
      String site = "site-" + random.nextInt(5);
      double temperature = Math.round(random.nextGaussian() * 1000) / 100.0;
      envelopes.add(readings.reading(device, site, time, temperature));
      String window = device + "@" + Math.floorDiv(time, WINDOW) * WINDOW;
      oracle.computeIfAbsent(window, w -> new ArrayList<>()).add(new double[] {temperature});
      oracleSites.computeIfAbsent(window, w -> new ArrayList<>()).add(site);
      if (i % 100 == 99) {
        // The watermark follows the source order, so this one is behind a closed window.
        lateOffsets.add((long) envelopes.size());
        envelopes.add(readings.reading(device, site, time - 3 * WINDOW, 1000.0));
      }
    }

    Configuration conf = new Configuration();
    conf.set(PipelineOptions.GENERIC_TYPES, false);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(PARALLELISM);
    assertThatThrownBy(
            () ->
                new GenericTypeInfo<>(Object.class)
                    .createSerializer(env.getConfig().getSerializerConfig()))
        .as("the environment really refuses generic types")
        .isInstanceOf(UnsupportedOperationException.class);

    SingleOutputStreamOperator<WindowAggregate> aggregates =
        env.fromData(
                Envelopes.typeInfo(SensorReading.getClassSchema()),
                envelopes.toArray(GenericRecord[]::new))
            .assignTimestampsAndWatermarks(watermarkPerEvent())
            .setParallelism(1)
            .keyBy(GroupKeySelector.of(spec))
            .process(new WindowAggregator(spec, Readings.EVENT_TYPE));
    CloseableIterator<DeadLetter> lateIterator =
        aggregates.getSideOutput(WindowAggregator.LATE).collectAsync();
    CloseableIterator<WindowAggregate> resultIterator = aggregates.collectAsync();
    env.execute("window aggregation ITCase");

    List<WindowAggregate> results = new ArrayList<>();
    resultIterator.forEachRemaining(results::add);
    List<DeadLetter> late = new ArrayList<>();
    lateIterator.forEachRemaining(late::add);

    assertThat(results).hasSize(oracle.size());
    for (WindowAggregate result : results) {
      String window = result.getGroupKey().get("deviceId") + "@" + result.getWindowStart();
      List<Double> temperatures = oracle.get(window).stream().map(t -> t[0]).sorted().toList();
      double sum = temperatures.stream().mapToDouble(Double::doubleValue).sum();
      double mean = sum / temperatures.size();
      double variance =
          temperatures.stream().mapToDouble(t -> (t - mean) * (t - mean)).sum()
              / temperatures.size();
      Map<String, Double> values = result.getValues();
      assertThat(result.getRevision()).isZero();
      assertThat(result.getWindowEnd()).isEqualTo(result.getWindowStart() + WINDOW);
      assertThat(result.getCount()).as(window).isEqualTo(temperatures.size());
      assertThat(values.get("sum_temperature")).isCloseTo(sum, within(1e-9));
      assertThat(values.get("min_temperature")).isEqualTo(temperatures.get(0));
      assertThat(values.get("max_temperature"))
          .isEqualTo(temperatures.get(temperatures.size() - 1));
      assertThat(values.get("stddev_temperature")).isCloseTo(Math.sqrt(variance), within(1e-9));
      long distinctSites = oracleSites.get(window).stream().distinct().count();
      assertThat(values.get("distinct_site"))
          .isCloseTo(
              (double) distinctSites,
              within(3 * MetricSpec.DISTINCT_RELATIVE_ERROR * distinctSites));
      Double median = values.get("p50_temperature");
      double rank =
          (double) temperatures.stream().filter(t -> t <= median).count() / temperatures.size();
      // Windows hold few values, so KLL is exact and the error bound is only a formality.
      assertThat(rank).isGreaterThanOrEqualTo(0.5 - MetricSpec.QUANTILE_RANK_ERROR);
    }

    assertThat(late)
        .extracting(d -> d.getSource().getOffset())
        .containsExactlyInAnyOrderElementsOf(lateOffsets);
    assertThat(late)
        .allSatisfy(
            d -> {
              assertThat(d.getReason()).isEqualTo(DeadLetterReason.LATE_EVENT);
              assertThat(d.getWindowEnd()).isEqualTo(d.getWindowStart() + WINDOW);
            });
  }

  /** A watermark right after every event: deterministic lateness for the ordered source. */
  private static WatermarkStrategy<GenericRecord> watermarkPerEvent() {
    return WatermarkStrategy.<GenericRecord>forGenerator(
            context ->
                new WatermarkGenerator<>() {
                  private long maxTimestamp = Long.MIN_VALUE;

                  @Override
                  public void onEvent(GenericRecord event, long timestamp, WatermarkOutput out) {
                    maxTimestamp = Math.max(maxTimestamp, timestamp);
                    out.emitWatermark(new Watermark(maxTimestamp - 1));
                  }

                  @Override
                  public void onPeriodicEmit(WatermarkOutput out) {}
                })
        .withTimestampAssigner((envelope, previous) -> Envelopes.eventTime(envelope));
  }
}
