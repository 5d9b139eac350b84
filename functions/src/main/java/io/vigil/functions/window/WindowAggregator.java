package io.vigil.functions.window;

import io.vigil.functions.event.Envelopes;
import io.vigil.functions.window.AggregationSpec.WindowKind;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.WindowAggregate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Event-time window aggregation of one {@link AggregationSpec}, written with explicit state and
 * timers so that no late event is ever dropped unseen.
 *
 * <p>Input: valid envelopes ({@link Envelopes}), keyed by {@link GroupKeySelector} for the same
 * spec's group-by fields; event time is {@link Envelopes#eventTime}. Output: one {@link
 * WindowAggregate} per window and group when the watermark reaches the window's last millisecond
 * ({@code end - 1}), with revision 0, timestamped {@code end - 1}; a result emitted at once
 * because of a late event carries that event's timestamp.
 *
 * <p>Windows: tumbling and sliding windows [start, end) aligned to epoch 0, as Flink's assigners;
 * session windows [first, last + gap) that merge when they overlap or touch, as Flink's {@code
 * EventTimeSessionWindows}.
 *
 * <p>Lateness is judged per window, as in Flink: a window is <em>late</em> once {@code end - 1 +
 * allowedLateness <= watermark}. An event is added to each of its windows that is not late; for
 * each of its windows that is late it produces one {@link DeadLetterReason#LATE_EVENT} dead letter
 * on {@link #LATE} naming that window. (Flink's {@code WindowOperator} instead skips the late
 * windows of a sliding-window element silently unless all of them are late.) A window's state is
 * kept until the watermark passes {@code end - 1 + allowedLateness}; an event that arrives for a
 * window that has already emitted updates it and re-emits it at once with the next revision. For
 * sessions, the event is first merged with the sessions it overlaps or touches; if that merged
 * session is late, the event becomes one dead letter with the merged bounds and the state is left
 * as it was. A merged session continues the highest revision of the sessions it absorbed.
 *
 * <p>Input that cannot be aggregated (a failed envelope, a metric field missing from the event or
 * holding a non-number) becomes a dead letter on {@link #REJECTED} and is not counted anywhere.
 *
 * <p>State: one {@link MapState} per group from window start to {@link WindowAccumulator}; each
 * window has an event-time timer at {@code end - 1} (emit) and one at {@code end - 1 +
 * allowedLateness} (clear), registered when the window is created. A timer finds its tumbling or
 * sliding windows from its time alone, with a lookup per window; sessions, a few per group, are
 * found by a scan. When the last window of a group is cleared, the group holds no state and no
 * timers.
 */
public class WindowAggregator extends KeyedProcessFunction<String, GenericRecord, WindowAggregate> {

  private static final long serialVersionUID = 1L;

  /** Events that arrived after a window they belong to was closed: one per missed window. */
  public static final OutputTag<DeadLetter> LATE =
      new OutputTag<>("window-late-events", TypeInformation.of(DeadLetter.class));

  /**
   * Events that could not be aggregated at all (failed envelopes, missing or non-numeric fields).
   */
  public static final OutputTag<DeadLetter> REJECTED =
      new OutputTag<>("window-rejected-events", TypeInformation.of(DeadLetter.class));

  private final AggregationSpec spec;
  private final String eventTypeName;
  private final long allowedLateness;

  private transient MapState<Long, WindowAccumulator> windows;

  public WindowAggregator(AggregationSpec spec, String eventTypeName) {
    this.spec = spec;
    this.eventTypeName = eventTypeName;
    this.allowedLateness = spec.allowedLateness().toMillis();
  }

  @Override
  public void open(OpenContext openContext) {
    windows =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>(
                    "windows", Types.LONG, TypeInformation.of(WindowAccumulator.class)));
  }

  @Override
  public void processElement(GenericRecord envelope, Context ctx, Collector<WindowAggregate> out)
      throws Exception {
    if (Envelopes.isFailed(envelope)) {
      ctx.output(REJECTED, Envelopes.toDeadLetter(envelope, eventTypeName, spec.name()));
      return;
    }
    Object[] values = metricValues(envelope, ctx);
    if (values == null) {
      return;
    }
    long eventTime = Envelopes.eventTime(envelope);
    if (spec.kind() == WindowKind.SESSION) {
      addToSession(envelope, eventTime, values, ctx, out);
    } else {
      addToFixedWindows(envelope, eventTime, values, ctx, out);
    }
  }

  /**
   * The event's value for each metric (null for COUNT and null values), or null after rejecting the
   * event when a field is missing or not a number.
   */
  private Object[] metricValues(GenericRecord envelope, Context ctx) {
    GenericRecord event = Envelopes.event(envelope);
    List<MetricSpec> metrics = spec.metrics();
    Object[] values = new Object[metrics.size()];
    for (int i = 0; i < metrics.size(); i++) {
      MetricSpec metric = metrics.get(i);
      if (metric.field() == null) {
        continue;
      }
      if (event.getSchema().getField(metric.field()) == null) {
        reject(
            envelope,
            ctx,
            DeadLetterReason.MISSING_FIELD,
            "metric " + metric + ": event has no field '" + metric.field() + "'");
        return null;
      }
      Object value = event.get(metric.field());
      if (value != null && metric.isNumeric() && !(value instanceof Number)) {
        reject(
            envelope,
            ctx,
            DeadLetterReason.WRONG_TYPE,
            "metric "
                + metric
                + ": field '"
                + metric.field()
                + "' holds '"
                + value
                + "', not a number");
        return null;
      }
      values[i] = value;
    }
    return values;
  }

  private void reject(
      GenericRecord envelope, Context ctx, DeadLetterReason reason, String message) {
    ctx.output(
        REJECTED,
        Envelopes.toDeadLetter(
            envelope,
            eventTypeName,
            spec.name(),
            reason,
            "aggregation '" + spec.name() + "', " + message));
  }

  private void addToFixedWindows(
      GenericRecord envelope,
      long eventTime,
      Object[] values,
      Context ctx,
      Collector<WindowAggregate> out)
      throws Exception {
    long size = spec.size().toMillis();
    long slide = slide();
    long watermark = ctx.timerService().currentWatermark();
    long offsetInSlide = Math.floorMod(eventTime, slide);
    long lastStart = eventTime - offsetInSlide;
    // The earliest window still containing eventTime starts after eventTime - size.
    long firstStart = lastStart - (size - 1 - offsetInSlide) / slide * slide;
    for (long start = firstStart; start <= lastStart; start += slide) {
      long end = start + size;
      if (isLate(end, watermark)) {
        ctx.output(LATE, lateDeadLetter(envelope, eventTime, start, end, watermark));
        continue;
      }
      WindowAccumulator acc = windows.get(start);
      // A stored window already has its timers: they were registered when it was created.
      boolean created = acc == null;
      if (created) {
        acc = WindowAccumulator.empty(end, spec.metrics().size());
      }
      acc.add(spec.metrics(), values);
      emitOrSchedule(start, acc, created, ctx, out);
    }
  }

  private long slide() {
    return spec.kind() == WindowKind.SLIDING ? spec.slide().toMillis() : spec.size().toMillis();
  }

  private void addToSession(
      GenericRecord envelope,
      long eventTime,
      Object[] values,
      Context ctx,
      Collector<WindowAggregate> out)
      throws Exception {
    long ownEnd = eventTime + spec.gap().toMillis();
    long start = eventTime;
    long end = ownEnd;
    // One pass over the group's sessions: the absorbed ones are merged from these copies, and the
    // others decide which timers of the absorbed ones are still needed.
    Map<Long, WindowAccumulator> absorbed = new HashMap<>();
    List<WindowAccumulator> others = new ArrayList<>();
    for (Map.Entry<Long, WindowAccumulator> window : windows.entries()) {
      WindowAccumulator acc = window.getValue();
      // Touching counts as overlapping, as in Flink's TimeWindow.intersects.
      if (window.getKey() <= ownEnd && acc.windowEnd >= eventTime) {
        absorbed.put(window.getKey(), acc);
        start = Math.min(start, window.getKey());
        end = Math.max(end, acc.windowEnd);
      } else {
        others.add(acc);
      }
    }
    long watermark = ctx.timerService().currentWatermark();
    if (isLate(end, watermark)) {
      ctx.output(LATE, lateDeadLetter(envelope, eventTime, start, end, watermark));
      return;
    }
    WindowAccumulator merged = WindowAccumulator.empty(end, spec.metrics().size());
    for (Map.Entry<Long, WindowAccumulator> old : absorbed.entrySet()) {
      merged.merge(spec.metrics(), old.getValue());
      // The merged session is stored under its start, which overwrites the session starting there.
      if (old.getKey() != start) {
        windows.remove(old.getKey());
      }
    }
    merged.add(spec.metrics(), values);
    emitOrSchedule(start, merged, true, ctx, out);
    others.add(merged);
    for (WindowAccumulator old : absorbed.values()) {
      deleteTimerUnlessNeeded(ctx.timerService(), old.windowEnd - 1, others);
      deleteTimerUnlessNeeded(ctx.timerService(), cleanupTime(old.windowEnd), others);
    }
  }

  /**
   * Stores the updated window; emits it now if the watermark already reached its end (a late
   * update, or a window first seen after its end), else schedules its emission. Either way makes
   * sure it is cleared once it is late; {@code newTimers} is false for a window whose timers were
   * registered with it.
   */
  private void emitOrSchedule(
      long start,
      WindowAccumulator acc,
      boolean newTimers,
      Context ctx,
      Collector<WindowAggregate> out)
      throws Exception {
    TimerService timers = ctx.timerService();
    if (acc.windowEnd - 1 <= timers.currentWatermark()) {
      emit(ctx.getCurrentKey(), start, acc, out);
    } else if (newTimers) {
      timers.registerEventTimeTimer(acc.windowEnd - 1);
    }
    windows.put(start, acc);
    if (newTimers) {
      timers.registerEventTimeTimer(cleanupTime(acc.windowEnd));
    }
  }

  /**
   * Sessions share one timer service per group: a timer of an absorbed session may also be the emit
   * or clear time of another session ({@code sessions}, the group's sessions after the merge), which
   * must keep it.
   */
  private void deleteTimerUnlessNeeded(
      TimerService timers, long time, List<WindowAccumulator> sessions) {
    for (WindowAccumulator acc : sessions) {
      if (acc.windowEnd - 1 == time || cleanupTime(acc.windowEnd) == time) {
        return;
      }
    }
    timers.deleteEventTimeTimer(time);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<WindowAggregate> out)
      throws Exception {
    boolean removed =
        spec.kind() == WindowKind.SESSION || timestamp == Long.MAX_VALUE
            ? fireByScan(timestamp, ctx.getCurrentKey(), out)
            : fireFixedWindows(timestamp, ctx.getCurrentKey(), out);
    if (removed && windows.isEmpty()) {
      windows.clear();
    }
  }

  /**
   * Fires the tumbling or sliding windows whose timer this is, found from the time alone: the
   * window ending at {@code timestamp + 1} (emit) and the one whose end - 1 + allowed lateness is
   * {@code timestamp} (clear); with no allowed lateness they are the same window. Each candidate is
   * checked against its stored end, which also rules out starts computed with an overflow. Returns
   * whether a window was removed.
   */
  private boolean fireFixedWindows(long timestamp, String groupKey, Collector<WindowAggregate> out)
      throws Exception {
    long size = spec.size().toMillis();
    long emitStart = timestamp + 1 - size;
    WindowAccumulator toEmit = storedWindow(emitStart);
    // Every timer is registered after the watermark, so a window ending here has not been emitted.
    boolean emitted = toEmit != null && toEmit.windowEnd - 1 == timestamp;
    if (emitted) {
      emit(groupKey, emitStart, toEmit, out);
    }
    long clearStart = timestamp - allowedLateness + 1 - size;
    WindowAccumulator toClear = clearStart == emitStart ? toEmit : storedWindow(clearStart);
    boolean cleared = toClear != null && cleanupTime(toClear.windowEnd) == timestamp;
    if (emitted && !(cleared && clearStart == emitStart)) {
      windows.put(emitStart, toEmit);
    }
    if (cleared) {
      windows.remove(clearStart);
    }
    return cleared;
  }

  private WindowAccumulator storedWindow(long start) throws Exception {
    return Math.floorMod(start, slide()) == 0 ? windows.get(start) : null;
  }

  /**
   * Fires by looking at every window of the group: for sessions, whose bounds cannot be derived from
   * a time, and for a clear time that saturated at {@link Long#MAX_VALUE}, which many windows can
   * share. Returns whether a window was removed.
   */
  private boolean fireByScan(long timestamp, String groupKey, Collector<WindowAggregate> out)
      throws Exception {
    List<Long> emitted = new ArrayList<>();
    List<WindowAccumulator> emittedState = new ArrayList<>();
    List<Long> expired = new ArrayList<>();
    for (Map.Entry<Long, WindowAccumulator> window : windows.entries()) {
      WindowAccumulator acc = window.getValue();
      // Every timer is registered after the watermark, so a window ending exactly here has not
      // been emitted yet.
      if (acc.windowEnd - 1 == timestamp) {
        emit(groupKey, window.getKey(), acc, out);
        emitted.add(window.getKey());
        emittedState.add(acc);
      }
      if (cleanupTime(acc.windowEnd) <= timestamp) {
        expired.add(window.getKey());
      }
    }
    for (int i = 0; i < emitted.size(); i++) {
      windows.put(emitted.get(i), emittedState.get(i));
    }
    for (long start : expired) {
      windows.remove(start);
    }
    return !expired.isEmpty();
  }

  private void emit(
      String groupKey, long start, WindowAccumulator acc, Collector<WindowAggregate> out) {
    out.collect(
        WindowAggregate.newBuilder()
            .setAggregation(spec.name())
            .setGroupKey(GroupKeySelector.decode(groupKey, spec.groupBy()))
            .setWindowStart(start)
            .setWindowEnd(acc.windowEnd)
            .setCount(acc.count)
            .setValues(acc.results(spec.metrics()))
            .setRevision(acc.revision)
            .build());
    acc.revision++;
  }

  private boolean isLate(long windowEnd, long watermark) {
    return cleanupTime(windowEnd) <= watermark;
  }

  /** {@code end - 1 + allowedLateness}, saturating instead of overflowing. */
  private long cleanupTime(long windowEnd) {
    long maxTimestamp = windowEnd - 1;
    long cleanup = maxTimestamp + allowedLateness;
    return cleanup < maxTimestamp ? Long.MAX_VALUE : cleanup;
  }

  private DeadLetter lateDeadLetter(
      GenericRecord envelope, long eventTime, long start, long end, long watermark) {
    String message =
        "event time "
            + Instant.ofEpochMilli(eventTime)
            + " is too late for window ["
            + Instant.ofEpochMilli(start)
            + ", "
            + Instant.ofEpochMilli(end)
            + ") of aggregation '"
            + spec.name()
            + "': watermark "
            + Instant.ofEpochMilli(watermark)
            + " has passed the window end plus the allowed lateness of "
            + Duration.ofMillis(allowedLateness).toString().substring(2).toLowerCase(Locale.ROOT);
    return Envelopes.toLateDeadLetter(envelope, eventTypeName, spec.name(), start, end, message);
  }
}
