package io.vigil.functions.ingest;

import io.vigil.functions.event.Envelopes;
import java.time.Duration;
import java.util.Objects;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.eventtime.BoundedOutOfOrdernessWatermarks;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.eventtime.WatermarksWithIdleness;

/**
 * Event-time timestamps and watermarks for envelopes.
 *
 * <p>A valid envelope's timestamp is its event time. A failed envelope has no trustworthy event
 * time: it gets its Kafka timestamp, or {@link Long#MIN_VALUE} without one, and is invisible to the
 * watermark, so garbage can neither push the watermark forward (which would make good events late)
 * nor keep a partition from being idle.
 */
public final class EnvelopeWatermarks {

  private EnvelopeWatermarks() {}

  /**
   * Bounded out-of-orderness over valid envelopes: the watermark is the largest valid event time
   * seen minus {@code maxOutOfOrderness} minus 1 ms.
   *
   * @param idleTimeout a split with no valid envelope for this long is marked idle; null for never
   */
  public static WatermarkStrategy<GenericRecord> forEnvelopes(
      Duration maxOutOfOrderness, Duration idleTimeout) {
    Objects.requireNonNull(maxOutOfOrderness, "maxOutOfOrderness");
    if (maxOutOfOrderness.isNegative()) {
      throw new IllegalArgumentException(
          "maxOutOfOrderness must not be negative, got " + maxOutOfOrderness);
    }
    if (idleTimeout != null && (idleTimeout.isNegative() || idleTimeout.isZero())) {
      throw new IllegalArgumentException("idleTimeout must be positive, got " + idleTimeout);
    }
    WatermarkStrategy<GenericRecord> strategy =
        WatermarkStrategy.forGenerator(
            context -> {
              WatermarkGenerator<GenericRecord> bounded =
                  new BoundedOutOfOrdernessWatermarks<>(maxOutOfOrderness);
              return new ValidEnvelopesOnly(
                  idleTimeout == null
                      ? bounded
                      : new WatermarksWithIdleness<>(
                          bounded, idleTimeout, context.getInputActivityClock()));
            });
    return strategy.withTimestampAssigner(
        (envelope, recordTimestamp) -> timestamp(envelope));
  }

  /** Event time for valid envelopes; the Kafka timestamp, else Long.MIN_VALUE, for failed ones. */
  public static long timestamp(GenericRecord envelope) {
    if (!Envelopes.isFailed(envelope)) {
      return Envelopes.eventTime(envelope);
    }
    Long kafkaTimestamp = Envelopes.source(envelope).getKafkaTimestamp();
    return kafkaTimestamp == null ? Long.MIN_VALUE : kafkaTimestamp;
  }

  /** Shows only valid envelopes to the wrapped generator. */
  private static final class ValidEnvelopesOnly implements WatermarkGenerator<GenericRecord> {

    private final WatermarkGenerator<GenericRecord> delegate;

    ValidEnvelopesOnly(WatermarkGenerator<GenericRecord> delegate) {
      this.delegate = delegate;
    }

    @Override
    public void onEvent(GenericRecord envelope, long timestamp, WatermarkOutput output) {
      if (!Envelopes.isFailed(envelope)) {
        delegate.onEvent(envelope, timestamp, output);
      }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
      delegate.onPeriodicEmit(output);
    }
  }
}
