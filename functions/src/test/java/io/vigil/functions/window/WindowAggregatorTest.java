package io.vigil.functions.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.groups.Tuple.tuple;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SourceRef;
import io.vigil.schemas.WindowAggregate;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WindowAggregatorTest {

  private static final long SECOND = 1000;
  private static final List<String> BY_DEVICE = List.of("deviceId");

  private final Readings readings = new Readings();
  private KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, WindowAggregate> harness;

  @AfterEach
  void close() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  private void open(AggregationSpec spec) throws Exception {
    harness =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(new WindowAggregator(spec, Readings.EVENT_TYPE)),
            GroupKeySelector.of(spec),
            Types.STRING);
    harness.open();
  }

  private void send(GenericRecord envelope) throws Exception {
    harness.processElement(envelope, Envelopes.eventTime(envelope));
  }

  private List<WindowAggregate> drainOutput() {
    List<WindowAggregate> out = harness.extractOutputValues();
    harness.getOutput().clear();
    return out;
  }

  private List<DeadLetter> late() {
    return harness.getSideOutput(WindowAggregator.LATE) == null
        ? List.of()
        : harness.getSideOutput(WindowAggregator.LATE).stream()
            .map(StreamRecord::getValue)
            .toList();
  }

  private List<DeadLetter> rejected() {
    return harness.getSideOutput(WindowAggregator.REJECTED) == null
        ? List.of()
        : harness.getSideOutput(WindowAggregator.REJECTED).stream()
            .map(StreamRecord::getValue)
            .toList();
  }

  private void assertNoStateOrTimers() {
    assertThat(harness.numKeyedStateEntries()).isZero();
    assertThat(harness.numEventTimeTimers()).isZero();
  }

  private static List<MetricSpec> temperatureMetrics() {
    return List.of(
        MetricSpec.count(),
        MetricSpec.parse("sum(temperature)"),
        MetricSpec.parse("min(temperature)"),
        MetricSpec.parse("max(temperature)"),
        MetricSpec.parse("avg(temperature)"));
  }

  @Test
  void tumblingWindowEmitsExactValuesWhenWatermarkReachesItsEnd() throws Exception {
    open(
        AggregationSpec.tumbling(
            "t10", Duration.ofSeconds(10), Duration.ZERO, BY_DEVICE, temperatureMetrics()));
    send(readings.reading("d1", 1 * SECOND, 20.5));
    send(readings.reading("d1", 2 * SECOND, 22.0));
    send(readings.reading("d1", 10 * SECOND - 1, 18.25));
    send(readings.reading("d2", 5 * SECOND, 30.0));
    send(readings.reading("d1", 10 * SECOND, 99.0));

    harness.processWatermark(10 * SECOND - 2);
    assertThat(drainOutput()).isEmpty();

    harness.processWatermark(10 * SECOND - 1);
    List<StreamRecord<? extends WindowAggregate>> fired = harness.extractOutputStreamRecords();
    assertThat(fired).allSatisfy(r -> assertThat(r.getTimestamp()).isEqualTo(10 * SECOND - 1));
    Map<String, WindowAggregate> byDevice =
        drainOutput().stream()
            .collect(Collectors.toMap(a -> a.getGroupKey().get("deviceId"), a -> a));
    assertThat(byDevice).containsOnlyKeys("d1", "d2");

    WindowAggregate d1 = byDevice.get("d1");
    assertThat(d1.getAggregation()).isEqualTo("t10");
    assertThat(d1.getGroupKey()).isEqualTo(Map.of("deviceId", "d1"));
    assertThat(d1.getWindowStart()).isZero();
    assertThat(d1.getWindowEnd()).isEqualTo(10 * SECOND);
    assertThat(d1.getCount()).isEqualTo(3);
    assertThat(d1.getRevision()).isZero();
    assertThat(d1.getValues())
        .containsEntry("count", 3.0)
        .containsEntry("sum_temperature", 20.5 + 22.0 + 18.25)
        .containsEntry("min_temperature", 18.25)
        .containsEntry("max_temperature", 22.0)
        .containsEntry("avg_temperature", (20.5 + 22.0 + 18.25) / 3);
    assertThat(byDevice.get("d2").getValues()).containsEntry("sum_temperature", 30.0);

    harness.processWatermark(20 * SECOND - 1);
    List<WindowAggregate> second = drainOutput();
    assertThat(second)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getWindowStart()).isEqualTo(10 * SECOND);
              assertThat(a.getValues()).containsEntry("max_temperature", 99.0);
            });
    assertNoStateOrTimers();
  }

  @Test
  void slidingWindowCountsElementInEveryWindowThatContainsIt() throws Exception {
    long size = 10 * SECOND;
    long slide = 4 * SECOND;
    open(
        AggregationSpec.sliding(
            "s10",
            Duration.ofMillis(size),
            Duration.ofMillis(slide),
            Duration.ZERO,
            BY_DEVICE,
            List.of(MetricSpec.count(), MetricSpec.parse("sum(temperature)"))));
    long[] times = {0, 3 * SECOND, 4 * SECOND, 13 * SECOND, 13 * SECOND + 999, 29 * SECOND};
    for (int i = 0; i < times.length; i++) {
      send(readings.reading("d1", times[i], i + 1));
    }
    harness.processWatermark(Long.MAX_VALUE);

    // Oracle: every window k * slide, [start, start + size), that holds at least one time.
    Map<Long, List<Integer>> expected = new TreeMap<>();
    for (long start = Math.floorDiv(-size, slide) * slide; start <= 30 * SECOND; start += slide) {
      for (int i = 0; i < times.length; i++) {
        if (times[i] >= start && times[i] < start + size) {
          expected.computeIfAbsent(start, s -> new ArrayList<>()).add(i + 1);
        }
      }
    }
    List<WindowAggregate> out = drainOutput();
    assertThat(out).hasSize(expected.size());
    for (WindowAggregate a : out) {
      List<Integer> members = expected.get(a.getWindowStart());
      assertThat(members).as("window %s", a.getWindowStart()).isNotNull();
      assertThat(a.getWindowEnd()).isEqualTo(a.getWindowStart() + size);
      assertThat(a.getCount()).isEqualTo(members.size());
      assertThat(a.getValues().get("sum_temperature"))
          .isEqualTo(members.stream().mapToDouble(Integer::doubleValue).sum());
    }
    assertNoStateOrTimers();
  }

  @Test
  void sessionsMergeWhenALateElementBridgesThem() throws Exception {
    open(
        AggregationSpec.session(
            "sess", Duration.ofSeconds(5), Duration.ZERO, BY_DEVICE, temperatureMetrics()));
    send(readings.reading("d1", 0, 1.0));
    send(readings.reading("d1", 2 * SECOND, 2.0));
    send(readings.reading("d1", 10 * SECOND, 3.0));
    harness.processWatermark(3 * SECOND);
    assertThat(harness.numEventTimeTimers()).isEqualTo(2);

    // [5 s, 10 s) touches [0, 7 s) and [10 s, 15 s): all three become one session.
    send(readings.reading("d1", 5 * SECOND, 4.0));
    assertThat(harness.numEventTimeTimers())
        .as("timers of the absorbed sessions are deleted")
        .isEqualTo(1);
    harness.processWatermark(15 * SECOND - 2);
    assertThat(drainOutput()).isEmpty();

    harness.processWatermark(15 * SECOND - 1);
    assertThat(drainOutput())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getWindowStart()).isZero();
              assertThat(a.getWindowEnd()).isEqualTo(15 * SECOND);
              assertThat(a.getCount()).isEqualTo(4);
              assertThat(a.getRevision()).isZero();
              assertThat(a.getValues())
                  .containsEntry("sum_temperature", 10.0)
                  .containsEntry("min_temperature", 1.0)
                  .containsEntry("max_temperature", 4.0)
                  .containsEntry("avg_temperature", 2.5);
            });
    assertNoStateOrTimers();
  }

  @Test
  void sessionsThatDoNotTouchStaySeparate() throws Exception {
    open(
        AggregationSpec.session(
            "sess", Duration.ofSeconds(5), Duration.ZERO, BY_DEVICE, List.of(MetricSpec.count())));
    send(readings.reading("d1", 0, 1.0));
    send(readings.reading("d1", 5 * SECOND + 1, 2.0));
    harness.processWatermark(Long.MAX_VALUE);
    assertThat(drainOutput())
        .extracting(WindowAggregate::getWindowStart, WindowAggregate::getWindowEnd)
        .containsExactlyInAnyOrder(tuple(0L, 5 * SECOND), tuple(5 * SECOND + 1, 10 * SECOND + 1));
    assertNoStateOrTimers();
  }

  @Test
  void sessionMergedAfterFiringContinuesRevisionAndKeepsSharedTimers() throws Exception {
    open(
        AggregationSpec.session(
            "sess",
            Duration.ofSeconds(5),
            Duration.ofSeconds(10),
            BY_DEVICE,
            List.of(MetricSpec.count())));
    send(readings.reading("d1", 0, 1.0));
    send(readings.reading("d1", 10 * SECOND, 2.0));
    harness.processWatermark(5 * SECOND);
    assertThat(drainOutput())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getWindowEnd()).isEqualTo(5 * SECOND);
              assertThat(a.getRevision()).isZero();
            });

    // Bridges the fired [0, 5 s) with [10 s, 15 s). The cleanup time of [0, 5 s) is 14 999,
    // which is also the emit time of the merged session and must survive the merge.
    send(readings.reading("d1", 5 * SECOND, 3.0));
    assertThat(drainOutput()).isEmpty();
    assertThat(harness.numEventTimeTimers()).isEqualTo(2);

    harness.processWatermark(15 * SECOND - 1);
    assertThat(drainOutput())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getWindowStart()).isZero();
              assertThat(a.getWindowEnd()).isEqualTo(15 * SECOND);
              assertThat(a.getCount()).isEqualTo(3);
              assertThat(a.getRevision()).isEqualTo(1);
            });
    harness.processWatermark(25 * SECOND - 1);
    assertNoStateOrTimers();
    assertThat(late()).isEmpty();
  }

  @Test
  void lateSessionBecomesOneDeadLetterAndLeavesStateAlone() throws Exception {
    open(
        AggregationSpec.session(
            "sess", Duration.ofSeconds(5), Duration.ZERO, BY_DEVICE, List.of(MetricSpec.count())));
    send(readings.reading("d1", 20 * SECOND, 1.0));
    harness.processWatermark(10 * SECOND);
    int entries = harness.numKeyedStateEntries();
    int timers = harness.numEventTimeTimers();

    GenericRecord lateOne = readings.reading("d1", 1 * SECOND, 2.0);
    send(lateOne);

    assertThat(late())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getWindowStart()).isEqualTo(1 * SECOND);
              assertThat(d.getWindowEnd()).isEqualTo(6 * SECOND);
              assertThat(d.getReason()).isEqualTo(DeadLetterReason.LATE_EVENT);
              assertThat(d.getPayload()).isEqualTo(Envelopes.payload(lateOne));
            });
    assertThat(harness.numKeyedStateEntries()).isEqualTo(entries);
    assertThat(harness.numEventTimeTimers()).isEqualTo(timers);
    harness.processWatermark(Long.MAX_VALUE);
    assertThat(drainOutput()).singleElement().satisfies(a -> assertThat(a.getCount()).isEqualTo(1));
    assertNoStateOrTimers();
  }

  @Test
  void lateEventWithinAllowedLatenessReEmitsWithNextRevision() throws Exception {
    open(
        AggregationSpec.tumbling(
            "t10", Duration.ofSeconds(10), Duration.ofSeconds(5), BY_DEVICE, temperatureMetrics()));
    send(readings.reading("d1", 1 * SECOND, 10.0));
    send(readings.reading("d1", 2 * SECOND, 20.0));
    harness.processWatermark(10 * SECOND - 1);
    assertThat(drainOutput())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getRevision()).isZero();
              assertThat(a.getCount()).isEqualTo(2);
            });

    send(readings.reading("d1", 3 * SECOND, 60.0));
    assertThat(drainOutput())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getRevision()).isEqualTo(1);
              assertThat(a.getCount()).isEqualTo(3);
              assertThat(a.getValues())
                  .containsEntry("sum_temperature", 90.0)
                  .containsEntry("max_temperature", 60.0)
                  .containsEntry("avg_temperature", 30.0);
            });

    // Last moment within the lateness: cleanup is at 10 s - 1 + 5 s = 14 999.
    harness.processWatermark(15 * SECOND - 2);
    send(readings.reading("d1", 4 * SECOND, 0.0));
    assertThat(drainOutput())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getRevision()).isEqualTo(2);
              assertThat(a.getValues()).containsEntry("min_temperature", 0.0);
            });
    assertThat(late()).isEmpty();

    harness.processWatermark(15 * SECOND - 1);
    assertNoStateOrTimers();
  }

  @Test
  void firstEventOfAWindowAfterItsEndIsEmittedAtOnce() throws Exception {
    open(
        AggregationSpec.tumbling(
            "t10",
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            BY_DEVICE,
            List.of(MetricSpec.count())));
    harness.processWatermark(12 * SECOND);
    send(readings.reading("d1", 1 * SECOND, 10.0));
    assertThat(drainOutput())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getRevision()).isZero();
              assertThat(a.getCount()).isEqualTo(1);
            });
    assertThat(harness.numEventTimeTimers()).as("only the cleanup timer").isEqualTo(1);
    harness.processWatermark(15 * SECOND - 1);
    assertThat(drainOutput()).isEmpty();
    assertNoStateOrTimers();
  }

  @Test
  void emitsLateDeadLetterWhenWindowClosed() throws Exception {
    open(
        AggregationSpec.tumbling(
            "t10",
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            BY_DEVICE,
            List.of(MetricSpec.count())));
    send(readings.reading("d1", 1 * SECOND, 10.0));
    harness.processWatermark(15 * SECOND - 1);
    drainOutput();
    assertNoStateOrTimers();

    GenericRecord tooLate = readings.reading("d1", 9 * SECOND, 10.0);
    send(tooLate);

    assertThat(drainOutput()).isEmpty();
    assertThat(late())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getReason()).isEqualTo(DeadLetterReason.LATE_EVENT);
              assertThat(d.getStage()).isEqualTo("t10");
              assertThat(d.getEventType()).isEqualTo(Readings.EVENT_TYPE);
              assertThat(d.getWindowStart()).isZero();
              assertThat(d.getWindowEnd()).isEqualTo(10 * SECOND);
              assertThat(d.getSource()).isEqualTo(new SourceRef("sensors", 0, 1L, null));
              assertThat(d.getPayload()).isEqualTo(ByteBuffer.wrap(Readings.payloadOf(1)));
              assertThat(d.getMessage())
                  .contains("1970-01-01T00:00:09Z")
                  .contains("[1970-01-01T00:00:00Z, 1970-01-01T00:00:10Z)")
                  .contains("watermark 1970-01-01T00:00:14.999Z")
                  .contains("5s");
            });
    assertNoStateOrTimers();
  }

  @Test
  void slidingElementIsCountedInOpenWindowsAndDeadLetteredForClosedOnes() throws Exception {
    open(
        AggregationSpec.sliding(
            "s10",
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            Duration.ZERO,
            BY_DEVICE,
            List.of(MetricSpec.count())));
    send(readings.reading("d1", 6 * SECOND, 1.0));
    harness.processWatermark(10 * SECOND - 1);
    assertThat(drainOutput())
        .singleElement()
        .satisfies(a -> assertThat(a.getWindowStart()).isZero());

    // 7 s belongs to [0, 10 s), closed, and to [5 s, 15 s), still open.
    GenericRecord partlyLate = readings.reading("d1", 7 * SECOND, 2.0);
    send(partlyLate);
    assertThat(late())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getWindowStart()).isZero();
              assertThat(d.getWindowEnd()).isEqualTo(10 * SECOND);
              assertThat(d.getPayload()).isEqualTo(Envelopes.payload(partlyLate));
            });

    harness.processWatermark(15 * SECOND - 1);
    assertThat(drainOutput())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.getWindowStart()).isEqualTo(5 * SECOND);
              assertThat(a.getCount()).isEqualTo(2);
            });
    assertNoStateOrTimers();
  }

  @Test
  void timerThatIsOneWindowsEmitAndAnothersCleanupDoesBoth() throws Exception {
    // Size 10 s, slide 5 s, lateness 5 s: 14 999 is the emit time of [5 s, 15 s) and the cleanup
    // time of [0, 10 s); each timer fires alone as the watermark steps over it.
    open(
        AggregationSpec.sliding(
            "s10",
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            Duration.ofSeconds(5),
            BY_DEVICE,
            List.of(MetricSpec.count())));
    send(readings.reading("d1", 6 * SECOND, 1.0));
    harness.processWatermark(10 * SECOND - 1);
    assertThat(drainOutput())
        .extracting(WindowAggregate::getWindowStart, WindowAggregate::getRevision)
        .containsExactly(tuple(0L, 0));

    harness.processWatermark(15 * SECOND - 1);
    assertThat(drainOutput())
        .extracting(WindowAggregate::getWindowStart, WindowAggregate::getCount)
        .containsExactly(tuple(5 * SECOND, 1L));
    assertThat(harness.numEventTimeTimers()).as("the cleanup timer of [5 s, 15 s)").isEqualTo(1);

    // [0, 10 s) is cleared, [5 s, 15 s) still takes late updates.
    GenericRecord partlyLate = readings.reading("d1", 9 * SECOND, 2.0);
    send(partlyLate);
    assertThat(late()).extracting(DeadLetter::getWindowStart).containsExactly(0L);
    assertThat(drainOutput())
        .extracting(
            WindowAggregate::getWindowStart, WindowAggregate::getCount, WindowAggregate::getRevision)
        .containsExactly(tuple(5 * SECOND, 2L, 1));

    harness.processWatermark(20 * SECOND - 1);
    assertThat(drainOutput()).isEmpty();
    assertNoStateOrTimers();
  }

  @Test
  void entirelyLateSlidingElementGetsOneDeadLetterPerWindow() throws Exception {
    open(
        AggregationSpec.sliding(
            "s10",
            Duration.ofSeconds(10),
            Duration.ofSeconds(2),
            Duration.ofSeconds(1),
            BY_DEVICE,
            List.of(MetricSpec.count())));
    harness.processWatermark(60 * SECOND);
    send(readings.reading("d1", 7 * SECOND, 1.0));

    Set<Long> expectedStarts = new TreeSet<>();
    for (long start = -10 * SECOND; start <= 7 * SECOND; start += 2 * SECOND) {
      if (start <= 7 * SECOND && 7 * SECOND < start + 10 * SECOND) {
        expectedStarts.add(start);
      }
    }
    assertThat(late())
        .extracting(DeadLetter::getWindowStart)
        .containsExactlyElementsOf(expectedStarts);
    assertThat(late())
        .allSatisfy(d -> assertThat(d.getWindowEnd()).isEqualTo(d.getWindowStart() + 10 * SECOND));
    assertThat(drainOutput()).isEmpty();
    assertNoStateOrTimers();
  }

  @Test
  void metricsMatchAnIndependentOracle() throws Exception {
    List<MetricSpec> metrics =
        List.of(
            MetricSpec.count(),
            MetricSpec.parse("sum(temperature)"),
            MetricSpec.parse("min(temperature)"),
            MetricSpec.parse("max(temperature)"),
            MetricSpec.parse("avg(temperature)"),
            MetricSpec.parse("stddev(temperature)"),
            MetricSpec.parse("distinct(site)"),
            MetricSpec.parse("p50(temperature)"),
            MetricSpec.parse("p95(temperature)"),
            MetricSpec.parse("p99(temperature)"),
            MetricSpec.parse("quantile(temperature, 0.999)"));
    open(AggregationSpec.tumbling("hour", Duration.ofHours(1), Duration.ZERO, BY_DEVICE, metrics));

    Random random = new Random(42);
    int n = 20_000;
    List<Double> temperatures = new ArrayList<>();
    Set<String> sites = new HashSet<>();
    for (int i = 0; i < n; i++) {
      double t = 15 + 10 * random.nextGaussian();
      String site = "site-" + random.nextInt(12_000);
      temperatures.add(t);
      sites.add(site);
      send(readings.reading("d1", site, random.nextInt(3_600_000), t));
    }
    harness.processWatermark(3_600_000 - 1);
    WindowAggregate result = drainOutput().get(0);
    Map<String, Double> values = result.getValues();

    List<Double> sorted = temperatures.stream().sorted().toList();
    double sum = 0;
    for (double t : sorted) {
      sum += t;
    }
    double mean = sum / n;
    double squares = 0;
    for (double t : sorted) {
      squares += (t - mean) * (t - mean);
    }
    assertThat(result.getCount()).isEqualTo(n);
    assertThat(values.get("count")).isEqualTo((double) n);
    assertThat(values.get("sum_temperature")).isCloseTo(sum, within(1e-6));
    assertThat(values.get("min_temperature")).isEqualTo(sorted.get(0));
    assertThat(values.get("max_temperature")).isEqualTo(sorted.get(n - 1));
    assertThat(values.get("avg_temperature")).isCloseTo(mean, within(1e-9));
    assertThat(values.get("stddev_temperature")).isCloseTo(Math.sqrt(squares / n), within(1e-9));
    assertThat(values.get("distinct_site"))
        .isCloseTo(
            (double) sites.size(), within(3 * MetricSpec.DISTINCT_RELATIVE_ERROR * sites.size()));
    assertQuantileRank(values.get("p50_temperature"), 0.50, sorted);
    assertQuantileRank(values.get("p95_temperature"), 0.95, sorted);
    assertQuantileRank(values.get("p99_temperature"), 0.99, sorted);
    assertQuantileRank(values.get("p99_9_temperature"), 0.999, sorted);
    assertNoStateOrTimers();
  }

  /** The true normalized rank of {@code estimate} is within the documented error of {@code q}. */
  private static void assertQuantileRank(Double estimate, double q, List<Double> sorted) {
    assertThat(estimate).isNotNull();
    long atOrBelow = sorted.stream().filter(t -> t <= estimate).count();
    double rank = (double) atOrBelow / sorted.size();
    assertThat(rank)
        .as("rank of p%s estimate", q)
        .isCloseTo(q, within(MetricSpec.QUANTILE_RANK_ERROR));
  }

  @Test
  void mergedSessionsKeepMetricsExact() throws Exception {
    List<MetricSpec> metrics =
        List.of(
            MetricSpec.parse("stddev(temperature)"),
            MetricSpec.parse("avg(temperature)"),
            MetricSpec.parse("distinct(site)"),
            MetricSpec.parse("p50(temperature)"));
    open(AggregationSpec.session("sess", Duration.ofSeconds(5), Duration.ZERO, BY_DEVICE, metrics));
    Random random = new Random(7);
    List<Double> temperatures = new ArrayList<>();
    Set<String> sites = new HashSet<>();
    // Two dense sessions, [0, 104.8 s) and [109 s, 213.8 s), then one element bridging them.
    for (int i = 0; i < 1000; i++) {
      long time = (i % 2 == 0 ? 0 : 109 * SECOND) + (i / 2) * 200L;
      double t = random.nextDouble() * 40;
      String site = "site-" + random.nextInt(300);
      temperatures.add(t);
      sites.add(site);
      send(readings.reading("d1", site, time, t));
    }
    temperatures.add(50.0);
    sites.add("bridge");
    harness.processWatermark(100 * SECOND);
    send(readings.reading("d1", "bridge", 104_500, 50.0));
    harness.processWatermark(Long.MAX_VALUE);

    List<WindowAggregate> out = drainOutput();
    assertThat(out).hasSize(1);
    WindowAggregate merged = out.get(0);
    List<Double> sorted = temperatures.stream().sorted().toList();
    double mean = sorted.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    double variance =
        sorted.stream().mapToDouble(t -> (t - mean) * (t - mean)).sum() / sorted.size();
    assertThat(merged.getCount()).isEqualTo(1001);
    assertThat(merged.getValues().get("avg_temperature")).isCloseTo(mean, within(1e-9));
    assertThat(merged.getValues().get("stddev_temperature"))
        .isCloseTo(Math.sqrt(variance), within(1e-9));
    assertThat(merged.getValues().get("distinct_site"))
        .isCloseTo(
            (double) sites.size(), within(3 * MetricSpec.DISTINCT_RELATIVE_ERROR * sites.size()));
    assertQuantileRank(merged.getValues().get("p50_temperature"), 0.5, sorted);
    assertNoStateOrTimers();
  }

  @Test
  void nullValuesAreSkippedByTheirMetricButCounted() throws Exception {
    Schema eventSchema =
        SchemaBuilder.record("Probe")
            .fields()
            .requiredString("deviceId")
            .optionalDouble("reading")
            .endRecord();
    Schema envelopeSchema = Envelopes.schema(eventSchema);
    List<MetricSpec> metrics =
        List.of(
            MetricSpec.count(),
            MetricSpec.parse("sum(reading)"),
            MetricSpec.parse("min(reading)"),
            MetricSpec.parse("max(reading)"),
            MetricSpec.parse("avg(reading)"),
            MetricSpec.parse("stddev(reading)"),
            MetricSpec.parse("distinct(reading)"),
            MetricSpec.parse("p50(reading)"));
    AggregationSpec spec =
        AggregationSpec.tumbling(
            "probe", Duration.ofSeconds(10), Duration.ZERO, BY_DEVICE, metrics);
    spec.checkAgainst(eventSchema);
    open(spec);
    send(readings.envelope(envelopeSchema, "a", 1, probe(eventSchema, "a", null)));
    send(readings.envelope(envelopeSchema, "a", 2, probe(eventSchema, "a", 2.0)));
    send(readings.envelope(envelopeSchema, "a", 3, probe(eventSchema, "a", null)));
    send(readings.envelope(envelopeSchema, "b", 4, probe(eventSchema, "b", null)));
    harness.processWatermark(10 * SECOND - 1);

    Map<String, Map<String, Double>> byDevice =
        drainOutput().stream()
            .collect(Collectors.toMap(a -> a.getGroupKey().get("deviceId"), a -> a.getValues()));
    assertThat(byDevice.get("a"))
        .containsEntry("count", 3.0)
        .containsEntry("sum_reading", 2.0)
        .containsEntry("min_reading", 2.0)
        .containsEntry("max_reading", 2.0)
        .containsEntry("avg_reading", 2.0)
        .containsEntry("stddev_reading", 0.0)
        .containsEntry("distinct_reading", 1.0)
        .containsEntry("p50_reading", 2.0);
    Map<String, Double> onlyNulls = new HashMap<>();
    for (String name :
        List.of(
            "sum_reading",
            "min_reading",
            "max_reading",
            "avg_reading",
            "stddev_reading",
            "p50_reading")) {
      onlyNulls.put(name, null);
    }
    onlyNulls.put("count", 1.0);
    onlyNulls.put("distinct_reading", 0.0);
    assertThat(byDevice.get("b")).isEqualTo(onlyNulls);
    assertNoStateOrTimers();
  }

  @Test
  void rejectsEventWithoutAMetricField() throws Exception {
    Schema eventSchema =
        SchemaBuilder.record("Probe").fields().requiredString("deviceId").endRecord();
    open(
        AggregationSpec.tumbling(
            "t10",
            Duration.ofSeconds(10),
            Duration.ZERO,
            BY_DEVICE,
            List.of(MetricSpec.count(), MetricSpec.parse("max(reading)"))));
    GenericRecord event = new GenericData.Record(eventSchema);
    event.put("deviceId", "a");
    send(readings.envelope(Envelopes.schema(eventSchema), "a", 1, event));

    assertThat(rejected())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.getReason()).isEqualTo(DeadLetterReason.MISSING_FIELD);
              assertThat(d.getMessage()).contains("max_reading").contains("'reading'");
              assertThat(d.getStage()).isEqualTo("t10");
            });
    harness.processWatermark(Long.MAX_VALUE);
    assertThat(drainOutput()).isEmpty();
    assertNoStateOrTimers();
  }

  private static GenericRecord probe(Schema schema, String deviceId, Double reading) {
    GenericRecord record = new GenericData.Record(schema);
    record.put("deviceId", deviceId);
    record.put("reading", reading);
    return record;
  }

  @Test
  void rejectsNonNumericFieldAndFailedEnvelopeWithoutCountingThem() throws Exception {
    open(
        AggregationSpec.tumbling(
            "t10",
            Duration.ofSeconds(10),
            Duration.ZERO,
            BY_DEVICE,
            List.of(MetricSpec.count(), MetricSpec.parse("avg(site)"))));
    send(readings.reading("d1", "north", 1 * SECOND, 1.0));
    GenericRecord failed =
        Envelopes.failed(
            Readings.ENVELOPE_SCHEMA,
            new SourceRef("sensors", 1, 99L, null),
            "garbage".getBytes(StandardCharsets.UTF_8),
            DeadLetterReason.UNDECODABLE,
            "not Avro");
    harness.processElement(failed, 1 * SECOND);

    assertThat(rejected())
        .extracting(DeadLetter::getReason)
        .containsExactly(DeadLetterReason.WRONG_TYPE, DeadLetterReason.UNDECODABLE);
    assertThat(rejected().get(0).getMessage()).contains("site").contains("north");
    assertThat(harness.numKeyedStateEntries()).isZero();
    harness.processWatermark(Long.MAX_VALUE);
    assertThat(drainOutput()).isEmpty();
    assertNoStateOrTimers();
  }

  @Test
  void windowStateIsAFlinkPojoThatNeedsNoKryo() throws Exception {
    TypeInformation<WindowAccumulator> type = TypeInformation.of(WindowAccumulator.class);
    assertThat(type).isInstanceOf(PojoTypeInfo.class);
    SerializerConfigImpl config = new SerializerConfigImpl();
    config.setGenericTypes(false);
    TypeSerializer<WindowAccumulator> serializer = type.createSerializer(config);

    WindowAccumulator acc = WindowAccumulator.empty(10, 2);
    List<MetricSpec> metrics = List.of(MetricSpec.parse("p50(x)"), MetricSpec.parse("sum(x)"));
    acc.add(metrics, new Object[] {3.0, 3.0});
    acc.revision = 2;
    DataOutputSerializer out = new DataOutputSerializer(256);
    serializer.serialize(acc, out);
    WindowAccumulator copy =
        serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    assertThat(copy.windowEnd).isEqualTo(10);
    assertThat(copy.revision).isEqualTo(2);
    assertThat(copy.results(metrics)).isEqualTo(Map.of("p50_x", 3.0, "sum_x", 3.0));
  }

  @Test
  void bufferedSketchUpdatesSurviveStateSerialization() throws Exception {
    TypeSerializer<WindowAccumulator> serializer =
        TypeInformation.of(WindowAccumulator.class).createSerializer(new SerializerConfigImpl());
    List<MetricSpec> metrics =
        List.of(MetricSpec.parse("distinct(x)"), MetricSpec.parse("quantile(y, 0.5)"));
    // One full buffer applied to the sketches and a few updates still waiting.
    int n = MetricAccumulator.PENDING_CAPACITY + 5;
    WindowAccumulator acc = WindowAccumulator.empty(10, metrics.size());
    HllSketch perEvent = new HllSketch(MetricSpec.HLL_LG_K, TgtHllType.HLL_8);
    for (int i = 1; i <= n; i++) {
      acc.add(metrics, new Object[] {"v" + (i % 40), (double) i});
      perEvent.update("v" + (i % 40));
    }
    DataOutputSerializer out = new DataOutputSerializer(256);
    serializer.serialize(acc, out);
    WindowAccumulator copy =
        serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));

    // Buffering must not change the HLL estimate of per-event updates; below k values KLL keeps
    // every value, so the median is exact.
    Map<String, Double> results = copy.results(metrics);
    assertThat(results.get("distinct_x")).isEqualTo(perEvent.getEstimate());
    assertThat(results.get("p50_y")).isEqualTo((double) ((n + 1) / 2));
  }

  @Test
  void groupsWithTheSameValuesInDifferentFieldsStayApart() throws Exception {
    open(
        AggregationSpec.tumbling(
            "t10",
            Duration.ofSeconds(10),
            Duration.ZERO,
            List.of("deviceId", "site"),
            List.of(MetricSpec.count())));
    send(readings.reading("a|b", "c", 1, 1.0));
    send(readings.reading("a", "b|c", 2, 1.0));
    send(readings.reading("a", "b|c", 3, 1.0));
    harness.processWatermark(Long.MAX_VALUE);
    assertThat(drainOutput())
        .extracting(WindowAggregate::getGroupKey, WindowAggregate::getCount)
        .containsExactlyInAnyOrder(
            tuple(Map.of("deviceId", "a|b", "site", "c"), 1L),
            tuple(Map.of("deviceId", "a", "site", "b|c"), 2L));
    assertNoStateOrTimers();
  }
}
