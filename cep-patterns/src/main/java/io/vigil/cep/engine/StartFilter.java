package io.vigil.cep.engine;

import io.vigil.cep.cel.StageCondition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.cep.nfa.NFA;
import org.apache.flink.cep.nfa.State;
import org.apache.flink.cep.nfa.StateTransition;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
import org.apache.flink.cep.pattern.conditions.RichAndCondition;
import org.apache.flink.cep.pattern.conditions.RichOrCondition;
import org.apache.flink.cep.time.TimerService;

/**
 * Whether an event can start a partial match of a rule version, decided the way Flink's {@link
 * NFA} decides it for a key that holds nothing but the start state: from each start state it
 * follows the {@code PROCEED} edges whose conditions hold (an optional or skippable first stage)
 * and starts a match only through a {@code TAKE} edge whose condition holds. An {@code IGNORE}
 * edge of the start state does nothing but renumber the start state's version, and the engine
 * drops a key's state when only the start state is left, so an event that passes no such {@code
 * TAKE} edge leaves the key exactly where it was and the engine need not run the NFA at all.
 *
 * <p>From the start state the partial match is empty: conditions see no earlier events ({@code
 * getEventsForPattern} is empty, as the NFA's own context is for a computation state with no
 * buffer entry), so each condition is a function of the event and its timestamp alone. A
 * condition that throws counts as "may start", so the NFA evaluates it again and fails as it would
 * have.
 *
 * <p>Before evaluating any CEL, an event is checked against every take condition reachable from
 * a start state through {@code PROCEED} edges (whatever their conditions): if each of them
 * excludes the event by its type or a required string field value ({@link
 * StageCondition#excludes}), no match can start. With many rules written for different sites,
 * devices or event kinds, this makes a rule that does not apply to an event cost a field lookup.
 */
final class StartFilter {

  private final List<State<GenericRecord>> starts = new ArrayList<>();
  private final StartContext context = new StartContext();
  private final Deque<State<GenericRecord>> pending = new ArrayDeque<>();
  private final List<IterativeCondition<GenericRecord>> takes = new ArrayList<>();

  StartFilter(NFA<GenericRecord> nfa) {
    for (State<GenericRecord> s : nfa.getStates()) {
      if (s.isStart()) {
        starts.add(s);
      }
    }
    Set<State<GenericRecord>> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    pending.addAll(starts);
    while (!pending.isEmpty()) {
      State<GenericRecord> s = pending.pop();
      if (seen.add(s)) {
        for (StateTransition<GenericRecord> t : s.getStateTransitions()) {
          switch (t.getAction()) {
            case TAKE -> takes.add(t.getCondition());
            case PROCEED -> pending.push(t.getTargetState());
            case IGNORE -> { }
          }
        }
      }
    }
  }

  /** The index of the first of {@code events} that can start a match, or -1 if none can. */
  int firstStarting(List<GenericRecord> events, long timestamp, TimerService timers) {
    context.timestamp = timestamp;
    context.timers = timers;
    for (int i = 0; i < events.size(); i++) {
      if (mayStart(events.get(i))) {
        return i;
      }
    }
    return -1;
  }

  private boolean mayStart(GenericRecord event) {
    if (excludedByEveryTake(event)) {
      return false;
    }
    pending.clear();
    pending.addAll(starts);
    while (!pending.isEmpty()) {
      for (StateTransition<GenericRecord> t : pending.pop().getStateTransitions()) {
        boolean holds;
        try {
          holds = t.getCondition() == null || t.getCondition().filter(event, context);
        } catch (Exception e) {
          return true;
        }
        if (holds) {
          switch (t.getAction()) {
            case TAKE -> {
              return true;
            }
            case PROCEED -> pending.push(t.getTargetState());
            case IGNORE -> { }
          }
        }
      }
    }
    return false;
  }

  private boolean excludedByEveryTake(GenericRecord event) {
    for (IterativeCondition<GenericRecord> take : takes) {
      if (!excludes(take, event)) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code condition} is surely false for {@code event}; false when unsure. */
  private static boolean excludes(IterativeCondition<GenericRecord> condition, GenericRecord event) {
    if (condition instanceof StageCondition stage) {
      return stage.excludes(event);
    }
    if (condition instanceof RichAndCondition<GenericRecord> and) {
      return excludes(and.getLeft(), event) || excludes(and.getRight(), event);
    }
    if (condition instanceof RichOrCondition<GenericRecord> or) {
      return excludes(or.getLeft(), event) && excludes(or.getRight(), event);
    }
    return false;
  }

  /** The condition context of a computation state with no buffer entry: no earlier events. */
  private static final class StartContext implements IterativeCondition.Context<GenericRecord> {
    long timestamp;
    TimerService timers;

    @Override
    public Iterable<GenericRecord> getEventsForPattern(String name) {
      return List.of();
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
