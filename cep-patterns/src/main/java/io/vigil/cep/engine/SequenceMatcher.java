package io.vigil.cep.engine;

import io.vigil.cep.cel.StageCondition;
import io.vigil.cep.compile.CompiledRule;
import io.vigil.cep.rule.Rule;
import io.vigil.functions.event.Envelopes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
import org.apache.flink.cep.time.TimerService;

/**
 * Runs a <i>simple sequence</i> rule for one key with exactly the results of Flink CEP's {@code NFA},
 * without the NFA: partial matches are plain {@link PartialMatch} objects, not a shared buffer.
 *
 * <p>A simple sequence is a rule whose stages are all single events ({@code once}: no group,
 * quantifier, {@code optional} or {@code until}), each joined to the one before by {@code next} or
 * {@code followedBy}, with no window or a first-and-last window, and no output on timeouts (every
 * after-match skip strategy is fine). {@link #of} decides that from the compiled rule alone.
 *
 * <p>Why this is exactly what the NFA does (Flink 2.2 {@code NFA}, {@code NFACompiler}, {@code
 * AfterMatchSkipStrategy}): such a pattern compiles to one state per stage with a {@code TAKE} edge
 * on the stage's condition to the next stage (the last one to the final state), plus, for a {@code
 * followedBy} stage, an {@code IGNORE} edge back to itself on the negated condition; the start state
 * is kept forever. So every event that passes the first condition starts exactly one computation
 * state, which never branches: at each later event its stage's condition either holds (the event is
 * taken), or fails and the partial match dies ({@code next}) or waits ({@code followedBy}). A partial
 * match is therefore identified by its first event, and the NFA orders partial and completed matches
 * by that event's id: (event time, order of registration among that time's events), which is the
 * arrival order within the timestamp, here {@link PartialMatch#places}. Per event the NFA steps every
 * partial match, starts one from the start state, then hands completed matches to the skip strategy:
 * with {@code no-skip} all are emitted in order of their first event; otherwise the earliest is
 * emitted only while no partial match started before it, each emitted match first pruning partial
 * and held matches that start at or before its last event ({@code skip-past-last-event}), its first
 * event ({@code skip-to-next}), or strictly before its stage's event ({@code skip-to-first/last}).
 * Advancing time drops partial matches whose first event is {@code >= within} old (held completed
 * matches do not expire) and then releases held matches the same way. Conditions are pure functions
 * of the event and the partial match, so evaluating each once, in any order, gives the same result.
 *
 * <p>A key's matches are kept in a list ordered by first event: new partial matches start with the
 * newest event, so appending keeps the order.
 */
final class SequenceMatcher {

  /** Where the matcher's results go. */
  interface Output {
    /** A completed match, stage name to its one event, in the order Flink CEP emits matches. */
    void match(Map<String, List<GenericRecord>> match);
  }

  private final List<String> stageNames;
  private final List<IterativeCondition<GenericRecord>> conditions;
  private final boolean[] next;
  private final long window;
  private final Rule.AfterMatch.Kind skip;
  private final int skipStage;
  /** Whether the rule matches in arrival order ({@link Rule.Order#ARRIVAL}). */
  private final boolean arrival;

  private SequenceMatcher(
      List<String> stageNames, List<IterativeCondition<GenericRecord>> conditions, boolean[] next, long window,
      Rule.AfterMatch.Kind skip, int skipStage, boolean arrival) {
    this.arrival = arrival;
    this.stageNames = stageNames;
    this.conditions = conditions;
    this.next = next;
    this.window = window;
    this.skip = skip;
    this.skipStage = skipStage;
  }

  /** The matcher for {@code compiled} if it is a simple sequence, else null (run it on the NFA). */
  static SequenceMatcher of(CompiledRule compiled) {
    Rule rule = compiled.rule();
    if (!rule.isSimpleSequence()) {
      return null;
    }
    List<Rule.Stage> stages = rule.pattern();
    boolean[] next = new boolean[stages.size()];
    for (int i = 1; i < stages.size(); i++) {
      next[i] = stages.get(i).contiguity() == Rule.Contiguity.NEXT;
    }
    // The conditions the NFA would test: each stage's own, from the compiled pattern.
    List<IterativeCondition<GenericRecord>> conditions = new ArrayList<>();
    for (Pattern<GenericRecord, ? extends GenericRecord> p = compiled.pattern(); p != null; p = p.getPrevious()) {
      conditions.add(0, condition(p));
    }
    String skipTo = rule.afterMatch().stage();
    return new SequenceMatcher(
        compiled.stageNames(), List.copyOf(conditions), next, rule.within() == null ? 0 : rule.within().toMillis(),
        rule.afterMatch().kind(), skipTo == null ? -1 : compiled.stageNames().indexOf(skipTo),
        rule.order() == Rule.Order.ARRIVAL);
  }

  @SuppressWarnings("unchecked")
  private static IterativeCondition<GenericRecord> condition(Pattern<GenericRecord, ? extends GenericRecord> stage) {
    return (IterativeCondition<GenericRecord>) stage.getCondition();
  }

  /**
   * Feeds one event to a key's {@code matches} (changed in place), as {@code NFA.process} would; a
   * new match starts only if {@code mayStart}. Returns whether {@code matches} changed.
   *
   * @param place the event's index among the events of its timestamp, in arrival order
   */
  boolean process(
      List<PartialMatch> matches, GenericRecord event, long timestamp, int place, boolean mayStart,
      TimerService timers, Output out) throws Exception {
    boolean changed = false;
    int stages = stageNames.size();
    for (Iterator<PartialMatch> it = matches.iterator(); it.hasNext(); ) {
      PartialMatch m = it.next();
      int stage = m.stages();
      if (stage == stages) {
        continue;
      }
      if (conditions.get(stage).filter(event, new MatchContext(m, timestamp, timers))) {
        m.events.add(event);
        m.places = append(m.places, place);
        changed = true;
      } else if (next[stage]) {
        it.remove();
        changed = true;
      }
    }
    if (mayStart && starts(event, timestamp, timers)) {
      List<GenericRecord> events = new ArrayList<>(stages);
      events.add(event);
      matches.add(new PartialMatch(timestamp, new int[] {place}, events));
      changed = true;
    }
    return release(matches, out) || changed;
  }

  /**
   * Advances a key's {@code matches} to {@code time}, as {@code NFA.advanceTime} would (without
   * timeouts: partial matches that time out are dropped). Returns whether {@code matches} changed.
   */
  boolean advance(List<PartialMatch> matches, long time, Output out) {
    // In event-time order the list is ordered by start time: if its first match has not expired,
    // none has, and having released after every change, there is nothing to release either. In
    // arrival order a late event may start a match after later ones: the earliest expiry decides.
    if (matches.isEmpty()
        || window <= 0
        || (arrival ? time < earliestExpiry(matches) : time - matches.get(0).startTime < window)) {
      return false;
    }
    int stages = stageNames.size();
    boolean changed = matches.removeIf(m -> m.stages() < stages && time - m.startTime >= window);
    return release(matches, out) || changed;
  }

  /**
   * The earliest time at which one of {@code matches} times out, or {@link Long#MAX_VALUE} if none
   * will: the window end of the earliest partial match that started after time 0 (the partial
   * matches {@code CepOperator} sets a timer for, as Flink's NFA flags only those as new); in
   * arrival order, of the earliest partial match ({@link #earliestExpiry}).
   */
  long nextExpiry(List<PartialMatch> matches) {
    if (arrival) {
      // No NFA to mirror: every partial match's expiry counts.
      return earliestExpiry(matches);
    }
    if (window > 0) {
      int stages = stageNames.size();
      for (PartialMatch m : matches) {
        if (m.stages() < stages && m.startTime > 0) {
          return m.startTime + window;
        }
      }
    }
    return Long.MAX_VALUE;
  }

  /**
   * The earliest time at which advancing {@code matches} drops a partial match ({@link #advance}),
   * or {@link Long#MAX_VALUE}: before it, advancing changes nothing. Unlike {@link #nextExpiry},
   * this counts every partial match.
   */
  long earliestExpiry(List<PartialMatch> matches) {
    long earliest = Long.MAX_VALUE;
    if (window > 0) {
      int stages = stageNames.size();
      for (PartialMatch m : matches) {
        if (m.stages() < stages) {
          earliest = Math.min(earliest, m.startTime + window);
        }
      }
    }
    return earliest;
  }

  /** Whether this rule matches in arrival order, each event as it reaches the engine. */
  boolean arrival() {
    return arrival;
  }

  /**
   * The place of a key's next event in arrival order: one after every event its {@code matches}
   * hold, so places order events as they arrived (what (time, place) does in event-time order).
   * Places are renumbered from 0 before they could overflow: only their order among the events
   * held counts.
   */
  static int nextArrivalPlace(List<PartialMatch> matches) {
    int max = -1;
    int min = Integer.MAX_VALUE;
    for (PartialMatch m : matches) {
      max = Math.max(max, m.places[m.places.length - 1]);
      min = Math.min(min, m.places[0]);
    }
    if (max >= Integer.MAX_VALUE / 2) {
      for (PartialMatch m : matches) {
        for (int i = 0; i < m.places.length; i++) {
          m.places[i] -= min;
        }
      }
      max -= min;
    }
    return max + 1;
  }

  /** Whether partial matches of this rule time out (it has a window). */
  boolean expires() {
    return window > 0;
  }

  private boolean starts(GenericRecord event, long timestamp, TimerService timers) throws Exception {
    IterativeCondition<GenericRecord> first = conditions.get(0);
    if (first instanceof StageCondition stage && stage.excludes(event)) {
      return false;
    }
    return first.filter(event, new MatchContext(null, timestamp, timers));
  }

  /** Emits the completed matches the skip strategy lets go, pruning as it does; returns whether any. */
  private boolean release(List<PartialMatch> matches, Output out) {
    int stages = stageNames.size();
    boolean released = false;
    if (skip == Rule.AfterMatch.Kind.NO_SKIP) {
      for (Iterator<PartialMatch> it = matches.iterator(); it.hasNext(); ) {
        PartialMatch m = it.next();
        if (m.stages() == stages) {
          it.remove();
          out.match(materialize(m));
          released = true;
        }
      }
      return released;
    }
    // Only a match with no partial match started before it may go: the list's first.
    while (!matches.isEmpty() && matches.get(0).stages() == stages) {
      PartialMatch m = matches.remove(0);
      prune(matches, m);
      out.match(materialize(m));
      released = true;
    }
    return released;
  }

  private void prune(List<PartialMatch> matches, PartialMatch match) {
    switch (skip) {
      case SKIP_PAST_LAST_EVENT -> {
        int last = match.stages() - 1;
        long time = Envelopes.eventTime(match.events.get(last));
        int place = match.places[last];
        matches.removeIf(m -> !startsAfter(m, time, place));
      }
      case SKIP_TO_NEXT -> matches.removeIf(m -> !startsAfter(m, match.startTime, match.places[0]));
      case SKIP_TO_FIRST, SKIP_TO_LAST -> {
        long time = Envelopes.eventTime(match.events.get(skipStage));
        int place = match.places[skipStage];
        matches.removeIf(m -> !startsAfter(m, time, place) && !startsAt(m, time, place));
      }
      case NO_SKIP -> { }
    }
  }

  /** Whether {@code m} starts after the event at {@code time} and {@code place} (arrival order: place alone). */
  private boolean startsAfter(PartialMatch m, long time, int place) {
    return arrival ? m.places[0] > place : m.startsAfter(time, place);
  }

  private boolean startsAt(PartialMatch m, long time, int place) {
    return m.places[0] == place && (arrival || m.startTime == time);
  }

  private Map<String, List<GenericRecord>> materialize(PartialMatch m) {
    Map<String, List<GenericRecord>> match = new LinkedHashMap<>();
    for (int i = 0; i < m.stages(); i++) {
      match.put(stageNames.get(i), List.of(m.events.get(i)));
    }
    return match;
  }

  private static int[] append(int[] values, int value) {
    int[] out = Arrays.copyOf(values, values.length + 1);
    out[values.length] = value;
    return out;
  }

  /**
   * A condition's view of one partial match, as the NFA's own context gives it: each stage's
   * events so far. One per test, since {@link StageCondition} remembers its last result by
   * context identity.
   */
  private final class MatchContext implements IterativeCondition.Context<GenericRecord> {
    private final PartialMatch match;
    private final long timestamp;
    private final TimerService timers;

    MatchContext(PartialMatch match, long timestamp, TimerService timers) {
      this.match = match;
      this.timestamp = timestamp;
      this.timers = timers;
    }

    @Override
    public Iterable<GenericRecord> getEventsForPattern(String name) {
      int stage = stageNames.indexOf(name);
      if (match == null || stage < 0 || stage >= match.stages()) {
        return List.of();
      }
      return List.of(match.events.get(stage));
    }

    @Override
    public long timestamp() {
      return timestamp;
    }

    @Override
    public long currentProcessingTime() {
      return timers.currentProcessingTime();
    }
  }
}
