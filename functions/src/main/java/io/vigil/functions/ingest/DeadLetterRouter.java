package io.vigil.functions.ingest;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Splits envelopes: valid ones continue on the main output unchanged; failed ones leave on {@link
 * #DEAD_LETTERS} as {@link DeadLetter}s with stage {@value #STAGE}, keeping the input's timestamp.
 * Stateless.
 *
 * <p>Metrics, under group {@code vigil}: counter {@code validEvents}, and for every {@link
 * DeadLetterReason} a counter {@code deadLetters.reason.<REASON>.count} (group {@code deadLetters},
 * key/value group {@code reason}={@code <REASON>}), so that reporters with tags see a {@code reason}
 * label.
 */
public final class DeadLetterRouter extends ProcessFunction<GenericRecord, GenericRecord> {

  private static final long serialVersionUID = 1L;

  public static final String STAGE = "ingest";

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  private final String eventTypeName;

  private transient Counter validEvents;
  private transient Map<DeadLetterReason, Counter> deadLetters;

  /** @param eventTypeName written into every dead letter's {@code eventType} */
  public DeadLetterRouter(String eventTypeName) {
    this.eventTypeName = Objects.requireNonNull(eventTypeName, "eventTypeName");
  }

  @Override
  public void open(OpenContext openContext) {
    MetricGroup vigil = getRuntimeContext().getMetricGroup().addGroup("vigil");
    validEvents = vigil.counter("validEvents");
    MetricGroup byReason = vigil.addGroup("deadLetters");
    deadLetters = new EnumMap<>(DeadLetterReason.class);
    for (DeadLetterReason reason : DeadLetterReason.values()) {
      deadLetters.put(reason, byReason.addGroup("reason", reason.name()).counter("count"));
    }
  }

  @Override
  public void processElement(GenericRecord envelope, Context ctx, Collector<GenericRecord> out) {
    if (!Envelopes.isFailed(envelope)) {
      validEvents.inc();
      out.collect(envelope);
      return;
    }
    DeadLetter deadLetter = Envelopes.toDeadLetter(envelope, eventTypeName, STAGE);
    deadLetters.get(deadLetter.getReason()).inc();
    ctx.output(DEAD_LETTERS, deadLetter);
  }
}
