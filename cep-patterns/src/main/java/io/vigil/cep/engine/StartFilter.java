package io.vigil.cep.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.cep.nfa.NFA;
import org.apache.flink.cep.nfa.State;
import org.apache.flink.cep.nfa.StateTransition;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
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
 */
final class StartFilter {

  private final List<State<GenericRecord>> starts = new ArrayList<>();
  private final StartContext context = new StartContext();
  private final Deque<State<GenericRecord>> pending = new ArrayDeque<>();

  StartFilter(NFA<GenericRecord> nfa) {
    for (State<GenericRecord> s : nfa.getStates()) {
      if (s.isStart()) {
        starts.add(s);
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
