package io.vigil.cep.engine;

import io.vigil.cep.compile.CompiledRule;
import io.vigil.cep.compile.RuleCompiler;
import io.vigil.cep.rule.Rule;
import io.vigil.cep.rule.RuleException;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AlertKind;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.DerivedEvent;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.RuleSetEntry;
import io.vigil.schemas.RuleState;
import io.vigil.schemas.RuleStatus;
import io.vigil.schemas.RuleVersionEntry;
import io.vigil.schemas.RuleVersionMode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.State;
import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.cep.nfa.ComputationState;
import org.apache.flink.cep.nfa.NFA;
import org.apache.flink.cep.nfa.NFAState;
import org.apache.flink.cep.nfa.NFAStateSerializer;
import org.apache.flink.cep.nfa.sharedbuffer.SharedBuffer;
import org.apache.flink.cep.nfa.sharedbuffer.SharedBufferAccessor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.runtime.state.KeyedStateFunction;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dynamic rule engine: runs every active rule on a keyed stream of envelopes, with rules added,
 * updated, disabled, enabled and deleted at runtime through a broadcast stream of {@link
 * RuleCommand}s.
 *
 * <p><b>Matching is Flink CEP's own.</b> Each rule is compiled to a Flink CEP {@code Pattern} and
 * run by Flink's {@link NFA}, with its {@link NFAState} and {@link SharedBuffer} kept per key and
 * rule version under names prefixed by {@code rule/<id>@<version>/}; except a <i>simple
 * sequence</i> (single-event stages joined by {@code next} or {@code followedBy}, no timeouts:
 * {@link SequenceMatcher#of}), which {@link SequenceMatcher} runs with the NFA's exact results from
 * one list of {@link PartialMatch}es per key and version ({@code rule/<id>@<version>/matches}) at a
 * fraction of the cost. Which of the two runs a version depends on its compiled rule alone.
 * Events are processed as {@code CepOperator} processes them (buffered until the watermark passes
 * them; per timestamp in arrival order; the NFA advanced to each timestamp before its events and to
 * the watermark after the last), so a rule matches exactly what a static {@code CEP.pattern(...)}
 * job matches. Unlike {@code CepOperator}, which re-sorts a key's whole buffer on every timer, each
 * buffered timestamp has its own event-time timer and the timer service fires them in order, so a
 * backlog costs O(log n) per event. A timer before the watermark sets one at the watermark (one per
 * key, Flink dedups it), which advances the key there after its last buffered timestamp. The
 * engine never asks the buffer whether it is empty: on RocksDB that seeks through the deletion
 * markers the buffer leaves behind, and the cost of every such call grows with the run.
 *
 * <p><b>Arrival order.</b> A rule with {@code order: arrival} (a simple sequence only) is run by
 * {@link SequenceMatcher} on each event as it reaches the engine, in {@link #processElement}: no
 * buffer, no wait for the watermark, as Flink CEP in processing time or Esper with external time
 * match. Its window still counts in event time: a partial match expires when an event of the key,
 * or the watermark, is {@code within} or more past its first event (a timer per key, as above,
 * clears a quiet key's state). Such a rule sees the events that arrive while it runs; events that
 * arrived before it, even if still buffered for event-time rules, it never sees. While only
 * arrival-order rules run, events are not buffered at all, so an event-time rule added then starts
 * with the events that arrive after it; an event behind the watermark is a dead letter only when
 * event-time rules run (the arrival-order ones have matched it).
 *
 * <p><b>Cost per rule.</b> A key keeps state for a rule version only while it has a partial match
 * of it; one keyed record lists those versions, so a version the key holds nothing for costs no
 * state access. For such a version the engine runs the NFA only if one of the timestamp's events
 * can start a match: passes a take condition reachable from the start state ({@link StartFilter};
 * conditions are pure, and with no partial match they see no earlier events). Skipping the others
 * is exact, since the NFA, given such an event, leaves nothing but its start state (renumbered,
 * which shifts every later version number alike), and the engine drops a key's state for a version
 * when nothing else is left. So an event costs a rule version nothing unless the key has a partial match
 * of it or the event starts one; with many rules that mostly do not apply to an event, the cost
 * grows with the rules that do, not with the rule count. (A simple sequence needs no start filter:
 * it tests its first stage's condition once per event, after the same exclusion by event type and
 * required field values, and stores nothing when no match starts.)
 *
 * <p><b>Rule changes</b> take effect on each parallel instance at the watermark it has when the
 * command arrives ({@code RuleStatus.watermark}): events after it go to the new state of the rule.
 * Events are buffered even while no rule is active, so events that reach an instance before its
 * start-up rules (both come through separate streams) are still matched by them.
 *
 * <ul>
 *   <li>ADD: the rule starts matching.
 *   <li>UPDATE (a higher version): the new version matches from now on; the old version's partial
 *       matches finish under the old version (they complete or time out, with the old version's
 *       number on their alerts) but the old version starts no new match. A key's old-version state
 *       is cleared when its last partial match ends.
 *   <li>DISABLE: the rule stops and its partial matches are dropped; ENABLE starts it afresh.
 *   <li>DELETE: the rule and all its state, for every key, are dropped.
 * </ul>
 *
 * Every command yields one {@link RuleStatus} on {@link #STATUS} (from subtask 0 only): accepted
 * with the version in force, or rejected with the validation error; a rejected command changes
 * nothing. The rule set is broadcast state ({@link #RULES}), so it is checkpointed and restored.
 *
 * <p><b>Outputs:</b> alerts (main output, {@link Alert}) for matches and, if the rule asks, for
 * timeouts; derived events on {@link #DERIVED}; late events as dead letters on {@link #DEAD_LETTERS}. The input must hold valid
 * envelopes only (route failed ones to dead letters before keying). Keyed state is cleared when a key has no partial match left, so it returns to
 * zero once all matches complete or time out.
 */
public class RuleEngine extends KeyedBroadcastProcessFunction<String, GenericRecord, RuleCommand, Alert>
    implements CheckpointedFunction {

  private static final long serialVersionUID = 1L;

  private static final Logger LOG = LoggerFactory.getLogger(RuleEngine.class);

  /** The rule set: rule id -> its live versions. Connect the command stream broadcast with this. */
  public static final MapStateDescriptor<String, RuleSetEntry> RULES =
      new MapStateDescriptor<>("vigil-rules", Types.STRING, new AvroTypeInfo<>(RuleSetEntry.class));

  /** One status per rule command. */
  public static final OutputTag<RuleStatus> STATUS =
      new OutputTag<>("rule-status", new AvroTypeInfo<>(RuleStatus.class));

  /** Derived events, for every named output (see {@code DerivedEvent.output}). */
  public static final OutputTag<DerivedEvent> DERIVED =
      new OutputTag<>("derived-events", new AvroTypeInfo<>(DerivedEvent.class));

  /** Late events (at or behind the engine's watermark), as LATE_EVENT dead letters. */
  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("rule-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  /** Alerts' type information (Avro, no Kryo). */
  public static final AvroTypeInfo<Alert> ALERT_TYPE = new AvroTypeInfo<>(Alert.class);

  static final String STAGE = "rules";

  private final String envelopeSchemaJson;
  private final String keyField;
  /** The YAML of the start-up rules ({@link #RuleEngine(Schema, String, List)}). */
  private final ArrayList<String> startUpRules;

  private transient Set<String> eventTypes;
  private transient TypeSerializer<GenericRecord> envelopeSerializer;
  private transient MapState<Long, List<GenericRecord>> buffer;
  /**
   * Per key, the rule versions ({@code id@version}) that hold state for it, so a version with
   * nothing for the key costs no state read.
   */
  private transient ValueStateDescriptor<List<String>> withStateDescriptor;
  private transient ValueState<List<String>> withState;
  /**
   * Per key, the time of a pending timer at or before the earliest time a partial match of a
   * {@link SequenceMatcher} version times out (see {@link #onTimer}); absent when none is known.
   */
  private transient ValueStateDescriptor<Long> expiryTimerDescriptor;
  private transient ValueState<Long> expiryTimer;
  /** Whether a running version is a {@link SequenceMatcher} rule with a window ({@link #running}). */
  private transient boolean sequencesExpire;
  private transient TypeInformation<List<PartialMatch>> partialMatchesType;
  private transient Map<String, Live> live;
  /** Rule versions whose failure this instance has logged (see {@link #failed}). */
  private transient Set<String> loggedFailures;
  private transient List<Running> running;
  /** The running versions that match in arrival order ({@link #running}). */
  private transient List<Running> arrivalVersions;
  /** Whether a running version matches in event-time order, so events are buffered ({@link #running}). */
  private transient boolean eventTimeVersions;

  /**
   * @param envelopeSchema the input's envelope schema ({@link Envelopes#schema} or {@link
   *     RuleEnvelopes#schema}); rules may read only the event types it carries
   * @param keyField the field the input is keyed by; a rule must declare the same {@code key}
   */
  public RuleEngine(Schema envelopeSchema, String keyField) {
    this(envelopeSchema, keyField, List.of());
  }

  /**
   * An engine that starts with {@code startUpRules} in force on every instance before its first
   * event, unless it is restored from a checkpoint or savepoint (then the rule set is the
   * restored one). Start-up rules also come through the command stream, as ADD commands, so that
   * each gets a status: an ADD of a version already active with the same YAML is accepted and
   * changes nothing. Without this, events read before the commands arrive would reach no
   * arrival-order rule (event-time rules see them anyway, buffered until the watermark).
   *
   * @param startUpRules ADD commands; others are left to the command stream, and so is a rule
   *     that does not validate (its command is rejected there, with the error)
   */
  public RuleEngine(Schema envelopeSchema, String keyField, List<RuleCommand> startUpRules) {
    this.envelopeSchemaJson = envelopeSchema.toString();
    this.keyField = keyField;
    this.startUpRules = new ArrayList<>();
    for (RuleCommand command : startUpRules) {
      if (command.getAction() == RuleAction.ADD && command.getYaml() != null) {
        this.startUpRules.add(command.getYaml());
      }
    }
  }

  @Override
  public void initializeState(FunctionInitializationContext context) throws Exception {
    if (context.isRestored() || startUpRules.isEmpty()) {
      return;
    }
    eventTypes = eventTypes(new Schema.Parser().parse(envelopeSchemaJson));
    BroadcastState<String, RuleSetEntry> rules = context.getOperatorStateStore().getBroadcastState(RULES);
    for (String yaml : startUpRules) {
      Rule rule;
      try {
        rule = check(RuleCompiler.compile(yaml).rule());
      } catch (RuleException e) {
        continue;
      }
      if (!rules.contains(rule.id())) {
        rules.put(
            rule.id(),
            new RuleSetEntry(
                rule.id(),
                new ArrayList<>(List.of(new RuleVersionEntry(rule.version(), rule.yaml(), RuleVersionMode.ACTIVE, Long.MIN_VALUE)))));
      }
    }
  }

  @Override
  public void snapshotState(FunctionSnapshotContext context) {
    // The rule set is broadcast state and the rest keyed state; the operator snapshots both.
  }

  /** A rule version ready to run on this instance: how it matches, and its keyed state. */
  private abstract static class Live {
    final String key;
    final CompiledRule compiled;
    /** The event types the rule reads (its {@code eventTypes}). */
    final Set<String> types;
    final List<StateDescriptor<?, ?>> descriptors;
    final List<State> states;

    Live(String key, CompiledRule compiled, List<StateDescriptor<?, ?>> descriptors, List<State> states) {
      this.key = key;
      this.compiled = compiled;
      this.types = Set.copyOf(compiled.rule().eventTypes());
      this.descriptors = descriptors;
      this.states = states;
    }

    /**
     * Runs this version for the current key on one of its timers, as {@code CepOperator} does:
     * advances to {@code timestamp} and feeds {@code events} (the timestamp's, in arrival order; null
     * for a timer without events), then advances to {@code watermark} if {@code toWatermark}.
     *
     * @param stored whether the key holds state for this version
     * @param draining whether the version may only finish its partial matches, not start any
     * @return whether the key holds state for this version afterwards
     */
    abstract boolean run(
        boolean stored, boolean draining, List<GenericRecord> events, long timestamp, boolean toWatermark,
        long watermark, Emitter emitter) throws Exception;

    abstract void release() throws Exception;
  }

  /** A rule version run by Flink's NFA with its own shared buffer: any rule. */
  private static final class NfaLive extends Live {
    final NFA<GenericRecord> nfa;
    final StartFilter start;
    final SharedBuffer<GenericRecord> sharedBuffer;
    final ValueState<NFAState> nfaState;
    final Set<String> startStates = new HashSet<>();

    NfaLive(String key, CompiledRule compiled, NFA<GenericRecord> nfa, SharedBuffer<GenericRecord> sharedBuffer,
        ValueState<NFAState> nfaState, NamespacedStateStore store) {
      super(key, compiled, store.descriptors(), store.states());
      this.nfa = nfa;
      this.start = new StartFilter(nfa);
      this.sharedBuffer = sharedBuffer;
      this.nfaState = nfaState;
      for (org.apache.flink.cep.nfa.State<GenericRecord> s : nfa.getStates()) {
        if (s.isStart()) {
          startStates.add(s.getName());
        }
      }
    }

    @Override
    boolean run(
        boolean stored, boolean draining, List<GenericRecord> events, long timestamp, boolean toWatermark,
        long watermark, Emitter emitter) throws Exception {
      NFAState state = stored ? nfaState.value() : null;
      boolean fresh = state == null;
      int first = 0;
      if (fresh) {
        // The key has nothing for this version: only an event that can start a match changes that.
        if (draining || events == null) {
          return false;
        }
        first = start.firstStarting(events, timestamp, emitter);
        if (first < 0) {
          return false;
        }
        state = nfa.createInitialNFAState();
      }
      if (draining) {
        stopStartingMatches(state);
      }
      if (events != null) {
        if (!fresh) {
          advance(state, timestamp, emitter);
        }
        for (int i = first; i < events.size(); i++) {
          process(state, events.get(i), timestamp, emitter);
        }
      }
      if (toWatermark) {
        advance(state, watermark, emitter);
      }
      return save(state, fresh);
    }

    private void process(NFAState state, GenericRecord event, long timestamp, Emitter emitter) throws Exception {
      try (SharedBufferAccessor<GenericRecord> accessor = sharedBuffer.getAccessor()) {
        Collection<Map<String, List<GenericRecord>>> matches =
            nfa.process(accessor, state, event, timestamp, compiled.skipStrategy(), emitter);
        if (nfa.getWindowTime() > 0 && state.isNewStartPartialMatch()) {
          emitter.ctx.timerService().registerEventTimeTimer(timestamp + nfa.getWindowTime());
          state.resetNewStartPartialMatch();
        }
        for (Map<String, List<GenericRecord>> match : matches) {
          emitter.match(compiled, match);
        }
      }
    }

    private void advance(NFAState state, long time, Emitter emitter) throws Exception {
      try (SharedBufferAccessor<GenericRecord> accessor = sharedBuffer.getAccessor()) {
        Tuple2<Collection<Map<String, List<GenericRecord>>>, Collection<Tuple2<Map<String, List<GenericRecord>>, Long>>>
            result = nfa.advanceTime(accessor, state, time, compiled.skipStrategy());
        for (Map<String, List<GenericRecord>> match : result.f0) {
          emitter.match(compiled, match);
        }
        for (Tuple2<Map<String, List<GenericRecord>>, Long> timedOut : result.f1) {
          emitter.timeout(compiled, timedOut.f0, timedOut.f1);
        }
      }
    }

    /** A draining version keeps its partial matches but takes no new first event. */
    private void stopStartingMatches(NFAState state) {
      if (state.getPartialMatches()
          .removeIf(c -> c.getPreviousBufferEntry() == null && startStates.contains(c.getCurrentStateName()))) {
        state.setStateChanged();
      }
    }

    /**
     * Stores the NFA state for the current key (always when {@code fresh}, created for this timer
     * and not stored yet), or drops all the version's state when only the start state is left;
     * returns whether the key keeps state for the version.
     */
    private boolean save(NFAState state, boolean fresh) throws Exception {
      boolean idle = state.getCompletedMatches().isEmpty();
      for (ComputationState c : state.getPartialMatches()) {
        if (c.getPreviousBufferEntry() != null || !startStates.contains(c.getCurrentStateName())) {
          idle = false;
          break;
        }
      }
      if (idle) {
        // Nothing but the start state: drop the NFA state as CepOperator does, and the shared
        // buffer's per-timestamp event counters too (CepOperator keeps those until the key's next
        // event). Later events are after the watermark, so no counter is needed again, and keyed
        // state goes back to zero when every match has completed or timed out.
        for (State keyed : states) {
          keyed.clear();
        }
        return false;
      }
      if (fresh || state.isStateChanged()) {
        state.resetStateChanged();
        nfaState.update(state);
      }
      return true;
    }

    @Override
    void release() throws Exception {
      sharedBuffer.releaseCacheStatisticsTimer();
      nfa.close();
    }
  }

  /**
   * A simple-sequence rule version, run by {@link SequenceMatcher} with the NFA's exact results: a
   * key's partial matches are one list in keyed state, read and written once per timer.
   */
  private static final class SequenceLive extends Live {
    final SequenceMatcher matcher;
    final ValueState<List<PartialMatch>> matches;

    SequenceLive(
        String key, CompiledRule compiled, SequenceMatcher matcher, ValueStateDescriptor<List<PartialMatch>> descriptor,
        ValueState<List<PartialMatch>> matches) {
      super(key, compiled, List.of(descriptor), List.of(matches));
      this.matcher = matcher;
      this.matches = matches;
    }

    @Override
    boolean run(
        boolean stored, boolean draining, List<GenericRecord> events, long timestamp, boolean toWatermark,
        long watermark, Emitter emitter) throws Exception {
      List<PartialMatch> state = stored ? matches.value() : null;
      boolean fresh = state == null;
      if (fresh) {
        if (draining || events == null) {
          return false;
        }
        state = new ArrayList<>();
      }
      SequenceMatcher.Output out = emitter.sequenceOutput(compiled);
      boolean changed = false;
      if (events != null) {
        if (!fresh) {
          changed = matcher.advance(state, timestamp, out);
        }
        for (int i = 0; i < events.size(); i++) {
          changed |= matcher.process(state, events.get(i), timestamp, i, !draining, emitter, out);
        }
      }
      if (toWatermark) {
        changed |= matcher.advance(state, watermark, out);
      }
      if (state.isEmpty()) {
        if (!fresh) {
          matches.clear();
        }
        return false;
      }
      if (changed) {
        matches.update(state);
      }
      emitter.nextExpiry = Math.min(emitter.nextExpiry, matcher.nextExpiry(state));
      emitter.earliestExpiry = Math.min(emitter.earliestExpiry, matcher.earliestExpiry(state));
      return true;
    }

    /** Notes in {@code emitter} when the key's partial matches of this version expire. */
    void noteExpiry(Emitter emitter) throws Exception {
      List<PartialMatch> state = matches.value();
      if (state != null) {
        emitter.nextExpiry = Math.min(emitter.nextExpiry, matcher.nextExpiry(state));
        emitter.earliestExpiry = Math.min(emitter.earliestExpiry, matcher.earliestExpiry(state));
      }
    }

    /**
     * Runs this arrival-order version for the current key on one event as it arrives: advances the
     * key's partial matches to the event's time, then feeds it, its place one after every event the
     * key holds ({@link SequenceMatcher#nextArrivalPlace}).
     */
    void arrive(GenericRecord event, long timestamp, boolean draining, Emitter emitter) throws Exception {
      List<PartialMatch> state = matches.value();
      boolean fresh = state == null;
      if (fresh) {
        if (draining) {
          return;
        }
        state = new ArrayList<>(2);
      }
      // While the key holds partial matches it has a timer at or before their earliest expiry
      // (set here, then by each firing); only an earlier expiry needs another.
      long timedUntil = fresh ? Long.MAX_VALUE : matcher.nextExpiry(state);
      SequenceMatcher.Output out = emitter.sequenceOutput(compiled);
      boolean changed = !fresh && matcher.advance(state, timestamp, out);
      changed |= matcher.process(
          state, event, timestamp, SequenceMatcher.nextArrivalPlace(state), !draining, emitter, out);
      if (state.isEmpty()) {
        if (!fresh) {
          matches.clear();
        }
        return;
      }
      if (changed) {
        matches.update(state);
      }
      long expiry = matcher.nextExpiry(state);
      if (expiry < timedUntil) {
        emitter.nextExpiry = Math.min(emitter.nextExpiry, expiry);
      }
    }

    @Override
    void release() {}
  }

  /** A live (active or draining) rule version, in the order every key runs them. */
  private record Running(Live live, boolean draining) {
    /** Whether this version matches in arrival order, on {@link #processElement} rather than timers. */
    boolean arrival() {
      return live instanceof SequenceLive s && s.matcher.arrival();
    }
  }

  @Override
  public void open(OpenContext openContext) throws Exception {
    Schema envelopeSchema = new Schema.Parser().parse(envelopeSchemaJson);
    eventTypes = eventTypes(envelopeSchema);
    GenericRecordAvroTypeInfo envelopeType = new GenericRecordAvroTypeInfo(envelopeSchema);
    envelopeSerializer = getRuntimeContext().createSerializer(envelopeType);
    partialMatchesType = PartialMatch.listTypeInfo(envelopeType);
    buffer =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>("rule-engine-buffer", Types.LONG, new ListTypeInfo<>(envelopeType)));
    withStateDescriptor = new ValueStateDescriptor<>("rule-engine-versions-with-state", Types.LIST(Types.STRING));
    withState = getRuntimeContext().getState(withStateDescriptor);
    expiryTimerDescriptor = new ValueStateDescriptor<>("rule-engine-expiry-timer", Types.LONG);
    expiryTimer = getRuntimeContext().getState(expiryTimerDescriptor);
    live = new HashMap<>();
    loggedFailures = new HashSet<>();
  }

  @Override
  public void close() throws Exception {
    if (live != null) {
      for (Live l : live.values()) {
        l.release();
      }
      live.clear();
    }
  }

  @Override
  public void processElement(GenericRecord envelope, ReadOnlyContext ctx, Collector<Alert> out)
      throws Exception {
    long timestamp = Envelopes.eventTime(envelope);
    long watermark = ctx.timerService().currentWatermark();
    running(ctx);
    if (!arrivalVersions.isEmpty()) {
      arrive(envelope, timestamp, watermark, ctx, out);
      if (!eventTimeVersions) {
        // Only arrival-order rules run: nothing waits for the watermark, and an event-time rule
        // added later starts with the events that arrive after it.
        return;
      }
    }
    if (timestamp <= watermark) {
      ctx.output(
          DEAD_LETTERS,
          Envelopes.toDeadLetter(
              envelope, typeName(envelope), STAGE, DeadLetterReason.LATE_EVENT,
              "event time " + timestamp + " is not after the rule engine's watermark " + watermark
                  + (arrivalVersions.isEmpty() ? "" : " (arrival-order rules matched it; event-time rules skip it)")));
      return;
    }
    List<GenericRecord> events = buffer.get(timestamp);
    if (events == null) {
      events = new ArrayList<>();
      ctx.timerService().registerEventTimeTimer(timestamp);
    }
    events.add(envelope);
    buffer.put(timestamp, events);
  }

  /**
   * Runs the arrival-order versions that read {@code envelope}'s type on it now, and makes sure the
   * key has a timer by the time one of their partial matches expires (which clears it when the key
   * goes quiet; an event's arrival expires them too).
   */
  private void arrive(GenericRecord envelope, long timestamp, long watermark, ReadOnlyContext ctx, Collector<Alert> out)
      throws Exception {
    String type = null;
    Emitter emitter = null;
    for (Running r : arrivalVersions) {
      SequenceLive l = (SequenceLive) r.live();
      if (l.types.size() != eventTypes.size()) {
        if (type == null) {
          type = typeName(envelope);
        }
        if (!l.types.contains(type)) {
          continue;
        }
      }
      if (emitter == null) {
        emitter = new Emitter(ctx, out);
      }
      try {
        l.arrive(envelope, timestamp, r.draining(), emitter);
      } catch (RuntimeException e) {
        failed(l, List.of(envelope), e, ctx);
      }
    }
    if (emitter != null && emitter.nextExpiry != Long.MAX_VALUE) {
      Long pending = expiryTimer.value();
      // A recorded timer at or before the watermark has fired; one after the expiry comes too late.
      if (pending == null || pending <= watermark || pending > emitter.nextExpiry) {
        ctx.timerService().registerEventTimeTimer(emitter.nextExpiry);
        expiryTimer.update(emitter.nextExpiry);
      }
    }
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alert> out) throws Exception {
    long watermark = ctx.timerService().currentWatermark();
    List<GenericRecord> events = buffer.get(timestamp);
    if (events != null) {
      buffer.remove(timestamp);
    }
    // Like CepOperator, advance to the watermark after the last buffered timestamp before it: the
    // timer at the watermark does that. A timer without events (a window's end) advances only to
    // the watermark, never to its own time: with a skip strategy, when a timeout is noticed decides
    // which held match is released first.
    boolean toWatermark = timestamp >= watermark;
    List<String> had = withState.value();
    Collection<String> stored = had == null ? List.of() : had.size() > 8 ? new HashSet<>(had) : had;
    List<String> keep = new ArrayList<>();
    boolean nfaKeeps = false;
    Emitter emitter = new Emitter(ctx, out);
    for (Running r : running(ctx)) {
      Live l = r.live();
      if (r.arrival()) {
        // It saw its events as they arrived; here it only expires partial matches. Its state is
        // read directly, not through the versions-with-state record, which it never enters.
        try {
          if (toWatermark) {
            l.run(true, r.draining(), null, timestamp, true, watermark, emitter);
          } else {
            ((SequenceLive) l).noteExpiry(emitter);
          }
        } catch (RuntimeException e) {
          failed(l, null, e, ctx);
        }
        continue;
      }
      List<GenericRecord> read = readBy(l, events);
      boolean keeps;
      try {
        keeps = l.run(stored.contains(l.key), r.draining(), read, timestamp, toWatermark, watermark, emitter);
      } catch (RuntimeException e) {
        failed(l, read, e, ctx);
        keeps = false;
      }
      if (keeps) {
        keep.add(l.key);
        nfaKeeps |= l instanceof NfaLive;
      }
    }
    if (!keep.equals(had == null ? List.of() : had)) {
      if (keep.isEmpty()) {
        withState.clear();
      } else {
        withState.update(keep);
      }
    }
    if (!toWatermark && (nfaKeeps || emitter.earliestExpiry <= watermark)) {
      // Timers fire in order, so this one runs after every buffered timestamp up to the watermark
      // (and sees to the expiry timer then).
      ctx.timerService().registerEventTimeTimer(watermark);
    } else if (sequencesExpire) {
      // Advancing a simple sequence to a time before its earliest expiry changes nothing, so
      // without NFA state or expiries up to the watermark the key needs no timer there: one
      // timer firing per buffered timestamp instead of two. Its partial matches still need their
      // expiry timer.
      keepExpiryTimer(timestamp, emitter.nextExpiry, ctx);
    }
  }

  /**
   * Makes sure the current key has a pending timer at or before {@code nextExpiry}, the earliest
   * time a partial match of one of its {@link SequenceMatcher} versions times out ({@code
   * Long.MAX_VALUE}: none).
   *
   * <p>{@code CepOperator} sets a timer at the window end of every partial match it starts. Here a
   * key keeps only one such timer: when it fires, this runs again and sets the next. That is
   * exact: a timer whose time expires nothing only advances to the watermark, which changes
   * nothing for a simple sequence (it releases held matches only when partial matches expire),
   * and the key still has a timer in every watermark step in which one of its partial matches
   * expires, so every expiry happens in the same step and order. Rules run by the NFA keep their
   * own timers. A key that starts a match on most events (a first stage of {@code true}) so has
   * about one timer per window instead of one per event, and the timer queue stays small.
   *
   * <p>Called once the key has advanced to the watermark, or when advancing it there would change
   * nothing, so {@code nextExpiry} is after the watermark.
   *
   * @param timestamp the firing timer's time: a recorded timer after it is still pending
   */
  private void keepExpiryTimer(long timestamp, long nextExpiry, OnTimerContext ctx) throws Exception {
    Long pending = expiryTimer.value();
    if (nextExpiry == Long.MAX_VALUE) {
      if (pending != null) {
        expiryTimer.clear();
      }
    } else if (pending == null || pending <= timestamp || pending > nextExpiry) {
      ctx.timerService().registerEventTimeTimer(nextExpiry);
      expiryTimer.update(nextExpiry);
    }
  }

  @Override
  public void processBroadcastElement(RuleCommand command, Context ctx, Collector<Alert> out)
      throws Exception {
    long watermark = ctx.currentWatermark();
    BroadcastState<String, RuleSetEntry> rules = ctx.getBroadcastState(RULES);
    RuleStatus.Builder status =
        RuleStatus.newBuilder()
            .setRuleId(command.getRuleId())
            .setAction(command.getAction())
            .setRequestedVersion(command.getVersion())
            .setWatermark(watermark);
    try {
      running = null;
      apply(command, rules, ctx, watermark, status);
      status.setAccepted(true);
    } catch (RuleException e) {
      status.setAccepted(false).setState(RuleState.UNCHANGED).setActiveVersion(null).setError(e.getMessage());
    }
    if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
      ctx.output(STATUS, status.build());
    }
  }

  private void apply(
      RuleCommand command, BroadcastState<String, RuleSetEntry> rules, Context ctx, long watermark,
      RuleStatus.Builder status) throws Exception {
    String id = command.getRuleId();
    RuleSetEntry entry = rules.get(id);
    RuleAction action = command.getAction();
    if (entry == null && action != RuleAction.ADD) {
      throw new RuleException(id, 1, action + ": no rule '" + id + "'" + (action == RuleAction.UPDATE ? "; use ADD" : ""));
    }
    switch (action) {
      case ADD, UPDATE -> {
        Rule rule = check(command);
        List<RuleVersionEntry> versions = new ArrayList<>();
        if (action == RuleAction.ADD) {
          if (entry != null && isActive(entry, rule)) {
            // A repeated ADD (a start-up rule already in force, a command read again): no change.
            status.setState(RuleState.ACTIVE).setActiveVersion(rule.version());
            return;
          }
          if (entry != null) {
            throw new RuleException(id, 1, "ADD: rule '" + id + "' exists; use UPDATE with a higher version");
          }
        } else {
          int newest = entry.getVersions().stream().mapToInt(RuleVersionEntry::getVersion).max().orElse(0);
          if (rule.version() <= newest) {
            throw new RuleException(id, 1, "UPDATE: version " + rule.version() + " is not newer than version " + newest);
          }
          for (RuleVersionEntry old : entry.getVersions()) {
            if (old.getMode() == RuleVersionMode.DISABLED) {
              drop(id, old, ctx);
            } else {
              if (old.getMode() == RuleVersionMode.ACTIVE) {
                old.setMode(RuleVersionMode.DRAINING);
                old.setSince(watermark);
              }
              versions.add(old);
            }
          }
        }
        versions.add(new RuleVersionEntry(rule.version(), rule.yaml(), RuleVersionMode.ACTIVE, watermark));
        rules.put(id, new RuleSetEntry(id, versions));
        status.setState(RuleState.ACTIVE).setActiveVersion(rule.version());
      }
      case DISABLE -> {
        List<RuleVersionEntry> versions = new ArrayList<>();
        Integer disabled = null;
        for (RuleVersionEntry v : entry.getVersions()) {
          if (v.getMode() == RuleVersionMode.DRAINING) {
            drop(id, v, ctx);
          } else {
            if (v.getMode() == RuleVersionMode.ACTIVE) {
              drop(id, v, ctx);
              v.setMode(RuleVersionMode.DISABLED);
              v.setSince(watermark);
            }
            disabled = v.getVersion();
            versions.add(v);
          }
        }
        rules.put(id, new RuleSetEntry(id, versions));
        status.setState(RuleState.DISABLED).setActiveVersion(disabled);
      }
      case ENABLE -> {
        RuleVersionEntry target = null;
        for (RuleVersionEntry v : entry.getVersions()) {
          if (v.getMode() == RuleVersionMode.DISABLED) {
            target = v;
          }
        }
        if (target == null) {
          throw new RuleException(id, 1, "ENABLE: rule '" + id + "' is not disabled");
        }
        target.setMode(RuleVersionMode.ACTIVE);
        target.setSince(watermark);
        rules.put(id, entry);
        status.setState(RuleState.ACTIVE).setActiveVersion(target.getVersion());
      }
      case DELETE -> {
        for (RuleVersionEntry v : entry.getVersions()) {
          drop(id, v, ctx);
        }
        rules.remove(id);
        status.setState(RuleState.DELETED).setActiveVersion(null);
      }
    }
  }

  private static Set<String> eventTypes(Schema envelopeSchema) {
    Set<String> names = new HashSet<>();
    for (Schema s : RuleEnvelopes.eventSchemas(envelopeSchema)) {
      names.add(s.getName());
    }
    return names;
  }

  /** Validates an ADD or UPDATE command's rule against the command and this job's input. */
  private Rule check(RuleCommand command) throws RuleException {
    String id = command.getRuleId();
    if (command.getYaml() == null) {
      throw new RuleException(id, 1, command.getAction() + " needs the rule's YAML");
    }
    Rule rule = RuleCompiler.compile(command.getYaml()).rule();
    if (!rule.id().equals(id)) {
      throw new RuleException(rule.id(), 1, "id: the command is for rule '" + id + "'");
    }
    if (command.getVersion() != null && command.getVersion() != rule.version()) {
      throw new RuleException(id, 1, "version: the document says " + rule.version() + ", the command " + command.getVersion());
    }
    return check(rule);
  }

  /** Validates a rule against this job's input: its event types and key. */
  private Rule check(Rule rule) throws RuleException {
    String id = rule.id();
    for (String type : rule.eventTypes()) {
      if (!eventTypes.contains(type)) {
        throw new RuleException(id, 1, "eventTypes: this job reads " + new java.util.TreeSet<>(eventTypes) + ", not " + type);
      }
    }
    if (!rule.key().equals(keyField)) {
      throw new RuleException(id, 1, "key: this job is keyed by '" + keyField + "', not '" + rule.key() + "'");
    }
    return rule;
  }

  /** Whether {@code rule} is in force in {@code entry}: the active version, with the same YAML. */
  private static boolean isActive(RuleSetEntry entry, Rule rule) {
    for (RuleVersionEntry v : entry.getVersions()) {
      if (v.getMode() == RuleVersionMode.ACTIVE && v.getVersion() == rule.version() && v.getYaml().equals(rule.yaml())) {
        return true;
      }
    }
    return false;
  }

  /** Drops a rule version's state for every key on this instance. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private void drop(String ruleId, RuleVersionEntry version, Context ctx) throws Exception {
    Live l = live(ruleId, version);
    for (StateDescriptor descriptor : l.descriptors) {
      ctx.applyToKeyedState(descriptor, (KeyedStateFunction) (key, state) -> ((State) state).clear());
    }
    ctx.applyToKeyedState(
        withStateDescriptor,
        (key, state) -> {
          List<String> keys = state.value();
          if (keys != null && keys.remove(l.key)) {
            if (keys.isEmpty()) {
              state.clear();
            } else {
              state.update(keys);
            }
          }
        });
    // A recorded expiry timer may be this version's; without the record a key sets a new one.
    ctx.applyToKeyedState(expiryTimerDescriptor, (key, state) -> state.clear());
    live.remove(l.key);
    l.release();
  }

  /** The runnable form of a rule version, compiled on first use on this instance. */
  private Live live(String ruleId, RuleVersionEntry version) throws Exception {
    String versionKey = ruleId + "@" + version.getVersion();
    Live l = live.get(versionKey);
    if (l == null) {
      CompiledRule compiled;
      try {
        compiled = RuleCompiler.compile(version.getYaml());
      } catch (RuleException e) {
        throw new IllegalStateException("a stored rule no longer compiles: " + e.getMessage(), e);
      }
      String prefix = "rule/" + versionKey + "/";
      SequenceMatcher sequence = SequenceMatcher.of(compiled);
      if (sequence != null) {
        ValueStateDescriptor<List<PartialMatch>> descriptor = new ValueStateDescriptor<>(prefix + "matches", partialMatchesType);
        l = new SequenceLive(versionKey, compiled, sequence, descriptor, getRuntimeContext().getState(descriptor));
      } else {
        NFA<GenericRecord> nfa = compiled.nfaFactory().createNFA();
        nfa.open(getRuntimeContext(), new Configuration());
        NamespacedStateStore store = new NamespacedStateStore(getRuntimeContext(), prefix);
        ValueState<NFAState> nfaState = store.getState(new ValueStateDescriptor<>("nfa", new NFAStateSerializer()));
        SharedBuffer<GenericRecord> sharedBuffer = new SharedBuffer<>(store, envelopeSerializer);
        l = new NfaLive(versionKey, compiled, nfa, sharedBuffer, nfaState, store);
      }
      live.put(versionKey, l);
    }
    return l;
  }

  /**
   * The live rule versions, by rule id and then version: the order a key's versions run in, so
   * alerts come out in the same order on every run. Rebuilt after every rule command (the only
   * thing that changes the rule set) and after a restore.
   */
  private List<Running> running(ReadOnlyContext ctx) throws Exception {
    if (running == null) {
      // Looked up only here: fetching the broadcast state costs a hash lookup per call.
      ReadOnlyBroadcastState<String, RuleSetEntry> rules = ctx.getBroadcastState(RULES);
      TreeMap<String, RuleSetEntry> byId = new TreeMap<>();
      for (Map.Entry<String, RuleSetEntry> e : rules.immutableEntries()) {
        byId.put(e.getKey(), e.getValue());
      }
      List<Running> list = new ArrayList<>();
      boolean expire = false;
      for (RuleSetEntry entry : byId.values()) {
        for (RuleVersionEntry version : entry.getVersions()) {
          if (version.getMode() != RuleVersionMode.DISABLED) {
            Live l = live(entry.getRuleId(), version);
            list.add(new Running(l, version.getMode() == RuleVersionMode.DRAINING));
            expire |= l instanceof SequenceLive s && s.matcher.expires();
          }
        }
      }
      running = List.copyOf(list);
      arrivalVersions = list.stream().filter(Running::arrival).toList();
      eventTimeVersions = arrivalVersions.size() < list.size();
      sequencesExpire = expire;
    }
    return running;
  }

  /**
   * Version {@code l} threw while matching for the current key (seen: Flink's NFA on a rare pattern
   * that compiles, a {@code notFollowedBy} before an optional loop whose {@code until} equals its
   * {@code where}). One rule must not stop the job: the version's state for the key is dropped, and
   * every event it was given at this timer (or on arrival) becomes a {@code RULE_FAILED} dead letter naming the rule
   * and the error, so what it missed is visible. Logged once per version and subtask.
   */
  private void failed(Live l, List<GenericRecord> read, RuntimeException e, ReadOnlyContext ctx) {
    for (State keyed : l.states) {
      keyed.clear();
    }
    if (loggedFailures.add(l.key)) {
      LOG.warn("Rule {} failed while matching; its partial matches for the key are dropped and the events it was "
          + "given become RULE_FAILED dead letters (logged once per rule version and subtask)", l.key, e);
    }
    if (read != null) {
      for (GenericRecord event : read) {
        ctx.output(
            DEAD_LETTERS,
            Envelopes.toDeadLetter(
                event, typeName(event), STAGE, DeadLetterReason.RULE_FAILED,
                "rule " + l.key + " failed while matching this event: " + e));
      }
    }
  }

  /**
   * The events of {@code events} that version {@code l} reads, in their order; null when none
   * (like a timer without events). A rule sees only its {@code eventTypes}, as a Flink CEP pattern
   * over a stream of those types would: an event of another type between two of its events (an
   * anomaly score between two readings, say) never breaks its contiguity.
   */
  private List<GenericRecord> readBy(Live l, List<GenericRecord> events) {
    // A rule's types are a subset of the engine's (checked on ADD), so equal sizes mean all.
    if (events == null || l.types.size() == eventTypes.size()) {
      return events;
    }
    List<GenericRecord> read = new ArrayList<>(events.size());
    for (GenericRecord event : events) {
      if (l.types.contains(typeName(event))) {
        read.add(event);
      }
    }
    return read.isEmpty() ? null : read;
  }

  private static String typeName(GenericRecord envelope) {
    return Envelopes.event(envelope).getSchema().getName();
  }

  /** Turns matches and timeouts into alerts and derived events for the current key. */
  private static final class Emitter implements org.apache.flink.cep.time.TimerService {
    final ReadOnlyContext ctx;
    final Collector<Alert> out;
    /** The earliest time a partial match of a {@link SequenceMatcher} version run so far expires. */
    long nextExpiry = Long.MAX_VALUE;
    /**
     * The same over every partial match ({@link SequenceMatcher#earliestExpiry}): advancing the key
     * to a time before it changes nothing.
     */
    long earliestExpiry = Long.MAX_VALUE;

    Emitter(ReadOnlyContext ctx, Collector<Alert> out) {
      this.ctx = ctx;
      this.out = out;
    }

    @Override
    public long currentProcessingTime() {
      return ctx.timerService().currentProcessingTime();
    }

    /** The output of a {@link SequenceMatcher} run of {@code compiled}. */
    SequenceMatcher.Output sequenceOutput(CompiledRule compiled) {
      return match -> Emitter.this.match(compiled, match);
    }

    void match(CompiledRule compiled, Map<String, List<GenericRecord>> match) {
      emit(compiled, AlertKind.MATCH, Rule.Trigger.MATCH, compiled.rule().alertOnMatch(), match, 0L);
    }

    void timeout(CompiledRule compiled, Map<String, List<GenericRecord>> partial, long expiry) {
      emit(compiled, AlertKind.TIMEOUT, Rule.Trigger.TIMEOUT, compiled.rule().alertOnTimeout(), partial, expiry);
    }

    private void emit(
        CompiledRule compiled, AlertKind kind, Rule.Trigger trigger, boolean alert,
        Map<String, List<GenericRecord>> match, long time) {
      Alert a = Alerts.alert(compiled, kind, ctx.getCurrentKey(), match, time);
      if (alert) {
        out.collect(a);
      }
      for (CompiledRule.DerivedOutput d : compiled.derived()) {
        if (d.spec().on() == trigger) {
          ctx.output(DERIVED, Alerts.derived(d, a, match));
        }
      }
    }
  }
}
