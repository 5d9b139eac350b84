package io.vigil.functions.anomaly;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Scores the watched numeric fields of every event, per key, with one online detector per field.
 *
 * <p>Input: envelopes ({@link Envelopes}) keyed by the entity key ({@code Envelopes::key}) or by
 * {@code GroupKeySelector} over {@link DetectorSpec#groupBy()}. Output: one {@link AnomalyScore}
 * per watched field with a value, in arrival order, timestamped with the event time. A field whose
 * value is null is skipped (no score, model unchanged).
 *
 * <p>The detector scores in arrival order, which for a Kafka partition is the order the events of
 * a key were written. Scores depend only on the earlier events of the key and the event itself.
 *
 * <p>Rejected input, as dead letters on {@link #REJECTED} (the event is then not scored at all): a
 * failed envelope; a watched field the event does not have ({@code MISSING_FIELD}); a value that
 * is not a number or not finite ({@code WRONG_TYPE}).
 *
 * <p>State, per key: one {@link ValueState} per watched field holding the detector's POJO model
 * (bounded: {@link AnomalyDetector#maxStateBytes()} each), and the time of the key's cleanup
 * timer. Cleanup: each event (re)sets an event-time timer at {@code eventTime + idleTimeout}; when
 * it fires, the key has been silent that long and all its state is cleared, so a key that comes
 * back starts from a fresh model (with a warm-up).
 */
public class AnomalyScorer extends KeyedProcessFunction<String, GenericRecord, AnomalyScore> {

  private static final long serialVersionUID = 1L;

  /** Events that could not be scored (failed envelopes, missing or non-numeric fields). */
  public static final OutputTag<DeadLetter> REJECTED =
      new OutputTag<>("anomaly-rejected-events", TypeInformation.of(DeadLetter.class));

  private final DetectorSpec spec;
  private final String eventTypeName;
  private final AnomalyDetector<Object> detector;

  private transient List<ValueState<Object>> models;
  private transient ValueState<Long> cleanupAt;

  @SuppressWarnings("unchecked")
  public AnomalyScorer(DetectorSpec spec, String eventTypeName) {
    this.spec = spec;
    this.eventTypeName = eventTypeName;
    this.detector = (AnomalyDetector<Object>) Detectors.create(spec.detector());
  }

  /** The spec this operator runs. */
  public DetectorSpec spec() {
    return spec;
  }

  @Override
  public void open(OpenContext openContext) {
    models = new ArrayList<>();
    for (String field : spec.fields()) {
      models.add(
          getRuntimeContext()
              .getState(new ValueStateDescriptor<>("model-" + field, detector.stateType())));
    }
    cleanupAt = getRuntimeContext().getState(new ValueStateDescriptor<>("cleanup-at", Types.LONG));
  }

  @Override
  public void processElement(GenericRecord envelope, Context ctx, Collector<AnomalyScore> out)
      throws Exception {
    if (Envelopes.isFailed(envelope)) {
      ctx.output(REJECTED, Envelopes.toDeadLetter(envelope, eventTypeName, stage()));
      return;
    }
    GenericRecord event = Envelopes.event(envelope);
    Double[] values = new Double[spec.fields().size()];
    for (int i = 0; i < values.length; i++) {
      String field = spec.fields().get(i);
      if (event.getSchema().getField(field) == null) {
        reject(envelope, ctx, DeadLetterReason.MISSING_FIELD, "event has no field '" + field + "'");
        return;
      }
      Object raw = event.get(field);
      if (raw == null) {
        continue;
      }
      if (!(raw instanceof Number number) || !Double.isFinite(number.doubleValue())) {
        reject(
            envelope,
            ctx,
            DeadLetterReason.WRONG_TYPE,
            "field '" + field + "' holds '" + raw + "', not a finite number");
        return;
      }
      values[i] = number.doubleValue();
    }
    long eventTime = Envelopes.eventTime(envelope);
    for (int i = 0; i < values.length; i++) {
      if (values[i] == null) {
        continue;
      }
      ValueState<Object> modelState = models.get(i);
      Object model = modelState.value();
      if (model == null) {
        model = detector.newState();
      }
      DetectorResult result = detector.update(model, eventTime, values[i]);
      modelState.update(model);
      out.collect(toScore(ctx.getCurrentKey(), spec.fields().get(i), eventTime, values[i], result,
          envelope));
    }
    resetCleanupTimer(ctx, eventTime);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<AnomalyScore> out)
      throws Exception {
    Long due = cleanupAt.value();
    if (due == null) {
      return;
    }
    if (timestamp >= due) {
      for (ValueState<Object> model : models) {
        model.clear();
      }
      cleanupAt.clear();
    } else {
      ctx.timerService().registerEventTimeTimer(due);
    }
  }

  /**
   * Moves the key's cleanup to {@code eventTime + idleTimeout}. While a key is busy only the state
   * moves: the one pending timer stays where it is and, when it fires early, re-registers at the
   * current due time. So a key costs one timer per idle timeout instead of a delete and a register
   * per event, and its models still go exactly when it has been silent for the idle timeout.
   */
  private void resetCleanupTimer(Context ctx, long eventTime) throws Exception {
    long due = eventTime + spec.idleTimeout().toMillis();
    Long current = cleanupAt.value();
    if (current == null) {
      ctx.timerService().registerEventTimeTimer(due);
    } else if (current >= due) {
      return;
    }
    cleanupAt.update(due);
  }

  private AnomalyScore toScore(
      String key,
      String field,
      long eventTime,
      double value,
      DetectorResult result,
      GenericRecord envelope) {
    return AnomalyScore.newBuilder()
        .setKey(key)
        .setEventType(eventTypeName)
        .setField(field)
        .setEventTime(eventTime)
        .setValue(value)
        .setScore(result.score())
        .setAnomalous(!result.warmUp() && result.score() >= spec.threshold())
        .setExpected(result.expected())
        .setLower(result.lower())
        .setUpper(result.upper())
        .setDetector(detector.name())
        .setExplanation(result.explanation())
        .setWarmUp(result.warmUp())
        .setSource(Envelopes.source(envelope))
        .build();
  }

  private void reject(GenericRecord envelope, Context ctx, DeadLetterReason reason, String message) {
    ctx.output(
        REJECTED,
        Envelopes.toDeadLetter(
            envelope, eventTypeName, stage(), reason, "anomaly " + spec.name() + ": " + message));
  }

  private String stage() {
    return "anomaly-" + spec.name();
  }
}
