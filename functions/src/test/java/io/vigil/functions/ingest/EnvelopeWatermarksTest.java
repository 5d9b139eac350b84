package io.vigil.functions.ingest;

import static io.vigil.functions.ingest.SensorReadings.SOURCE;
import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.clock.ManualClock;
import org.apache.flink.util.clock.RelativeClock;
import org.junit.jupiter.api.Test;

class EnvelopeWatermarksTest {

  private static final Schema ENVELOPE = Envelopes.schema(SensorReading.getClassSchema());
  private static final Duration BOUND = Duration.ofSeconds(2);

  private final ManualClock clock = new ManualClock();
  private final RecordingOutput output = new RecordingOutput();

  @Test
  void watermarkIsLargestValidEventTimeMinusBoundMinusOne() {
    WatermarkStrategy<GenericRecord> strategy = EnvelopeWatermarks.forEnvelopes(BOUND, null);
    WatermarkGenerator<GenericRecord> generator = generator(strategy);

    feed(strategy, generator, valid(10_000), valid(15_000), valid(12_000));
    generator.onPeriodicEmit(output);

    assertThat(output.watermarks).containsExactly(15_000 - 2_000 - 1L);
  }

  @Test
  void failedEnvelopesDoNotAdvanceTheWatermark() {
    WatermarkStrategy<GenericRecord> strategy = EnvelopeWatermarks.forEnvelopes(BOUND, null);
    WatermarkGenerator<GenericRecord> generator = generator(strategy);

    feed(strategy, generator, valid(10_000), failed(99_000_000L), failed(null));
    generator.onPeriodicEmit(output);

    assertThat(output.watermarks).containsExactly(10_000 - 2_000 - 1L);
  }

  @Test
  void onlyFailedEnvelopesLeaveTheWatermarkAtItsStart() {
    WatermarkStrategy<GenericRecord> strategy = EnvelopeWatermarks.forEnvelopes(BOUND, null);
    WatermarkGenerator<GenericRecord> generator = generator(strategy);

    feed(strategy, generator, failed(99_000_000L));
    generator.onPeriodicEmit(output);

    assertThat(output.watermarks).containsExactly(Long.MIN_VALUE);
  }

  @Test
  void timestampIsEventTimeForValidAndKafkaTimeOrMinimumForFailed() {
    TimestampAssigner<GenericRecord> assigner =
        EnvelopeWatermarks.forEnvelopes(BOUND, null).createTimestampAssigner(() -> metrics());

    assertThat(assigner.extractTimestamp(valid(10_000), 7L)).isEqualTo(10_000L);
    assertThat(assigner.extractTimestamp(failed(55L), 7L)).isEqualTo(55L);
    assertThat(assigner.extractTimestamp(failed(null), 7L)).isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void marksIdleAfterTimeoutWithoutValidEnvelopesEvenWhileFailedOnesArrive() {
    WatermarkStrategy<GenericRecord> strategy =
        EnvelopeWatermarks.forEnvelopes(BOUND, Duration.ofSeconds(5));
    WatermarkGenerator<GenericRecord> generator = generator(strategy);

    feed(strategy, generator, valid(10_000));
    generator.onPeriodicEmit(output);
    assertThat(output.idle).isFalse();

    // Flink's idleness timer starts counting at the first check without activity, so the split
    // turns idle one check after the timeout: at 7 s here with checks every second.
    for (int second = 1; second <= 7; second++) {
      assertThat(output.idle).as("idle after %d s", second - 1).isFalse();
      clock.advanceTime(Duration.ofSeconds(1));
      feed(strategy, generator, failed(1L));
      generator.onPeriodicEmit(output);
    }
    assertThat(output.idle).isTrue();
    assertThat(output.watermarks).containsOnly(10_000 - 2_000 - 1L);

    feed(strategy, generator, valid(20_000));
    generator.onPeriodicEmit(output);
    assertThat(output.watermarks).last().isEqualTo(20_000 - 2_000 - 1L);
  }

  @Test
  void withoutIdleTimeoutNeverMarksIdle() {
    WatermarkStrategy<GenericRecord> strategy = EnvelopeWatermarks.forEnvelopes(BOUND, null);
    WatermarkGenerator<GenericRecord> generator = generator(strategy);

    feed(strategy, generator, valid(10_000));
    clock.advanceTime(Duration.ofHours(1));
    generator.onPeriodicEmit(output);

    assertThat(output.idle).isFalse();
  }

  private WatermarkGenerator<GenericRecord> generator(WatermarkStrategy<GenericRecord> strategy) {
    return strategy.createWatermarkGenerator(
        new WatermarkGeneratorSupplier.Context() {
          @Override
          public MetricGroup getMetricGroup() {
            return metrics();
          }

          @Override
          public RelativeClock getInputActivityClock() {
            return clock;
          }
        });
  }

  /** What a source does per record: assign the timestamp, then show the record to the generator. */
  private void feed(
      WatermarkStrategy<GenericRecord> strategy,
      WatermarkGenerator<GenericRecord> generator,
      GenericRecord... envelopes) {
    TimestampAssigner<GenericRecord> assigner = strategy.createTimestampAssigner(() -> metrics());
    for (GenericRecord envelope : envelopes) {
      generator.onEvent(envelope, assigner.extractTimestamp(envelope, Long.MIN_VALUE), output);
    }
  }

  private static MetricGroup metrics() {
    return new UnregisteredMetricsGroup();
  }

  private static GenericRecord valid(long eventTime) {
    return Envelopes.valid(ENVELOPE, SOURCE, new byte[] {1}, "d1", eventTime, null);
  }

  private static GenericRecord failed(Long kafkaTimestamp) {
    SourceRef source = new SourceRef("sensors", 0, 1L, kafkaTimestamp);
    return Envelopes.failed(
        ENVELOPE, source, new byte[] {1}, DeadLetterReason.UNDECODABLE, "garbage");
  }

  private static final class RecordingOutput implements WatermarkOutput {
    final List<Long> watermarks = new ArrayList<>();
    boolean idle;

    @Override
    public void emitWatermark(Watermark watermark) {
      watermarks.add(watermark.getTimestamp());
      idle = false;
    }

    @Override
    public void markIdle() {
      idle = true;
    }

    @Override
    public void markActive() {
      idle = false;
    }
  }
}
