package io.vigil.cep.rule;

import io.vigil.schemas.Severity;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A parsed rule: the YAML document's content, shape-checked, with the line of every part so that
 * later checks (CEL type-checking, the pattern compiler) can point at it.
 *
 * @param yaml the original document, kept so the rule can be stored and re-parsed on restore
 */
public record Rule(
    String id,
    int version,
    String description,
    Severity severity,
    List<String> eventTypes,
    String key,
    List<Stage> pattern,
    Duration within,
    WithinKind withinKind,
    AfterMatch afterMatch,
    Order order,
    boolean alertOnMatch,
    boolean alertOnTimeout,
    List<Derived> derived,
    String yaml) {

  /** How stage {@code i} connects to the one before it. */
  public enum Contiguity {
    NEXT,
    FOLLOWED_BY,
    FOLLOWED_BY_ANY,
    NOT_NEXT,
    NOT_FOLLOWED_BY
  }

  /** What {@code within} measures: first to last event, or each event to the one before. */
  public enum WithinKind {
    FIRST_AND_LAST,
    PREVIOUS_AND_CURRENT
  }

  /**
   * The order a rule sees a key's events in. {@code EVENT_TIME} (the default): by event time, once
   * the watermark has passed them, exactly as a static Flink CEP job. {@code ARRIVAL}: as they reach
   * the engine, matched at once, as Flink CEP in processing time or Esper with external time would;
   * only for a {@link #isSimpleSequence simple sequence}.
   */
  public enum Order {
    EVENT_TIME,
    ARRIVAL
  }

  /** Flink CEP's after-match skip strategies; the two {@code SKIP_TO_*} ones name a stage. */
  public record AfterMatch(Kind kind, String stage) {
    public enum Kind {
      NO_SKIP,
      SKIP_TO_NEXT,
      SKIP_PAST_LAST_EVENT,
      SKIP_TO_FIRST,
      SKIP_TO_LAST
    }
  }

  /**
   * How often a stage may match. {@code min}/{@code max} as in Flink: {@code times(n)} is n..n,
   * {@code oneOrMore} is 1..unbounded ({@code max == -1}).
   */
  public record Quantifier(
      int min, int max, boolean optional, boolean greedy, boolean consecutive, boolean allowCombinations) {
    public static final Quantifier ONCE = new Quantifier(1, 1, false, false, false, false);

    public boolean looping() {
      return max != 1 || min != 1;
    }
  }

  /**
   * One pattern stage: a single-event stage ({@code where} set, {@code group} empty) or a group of
   * stages ({@code group} non-empty).
   */
  public record Stage(
      String name,
      int line,
      Contiguity contiguity,
      String eventType,
      String where,
      int whereLine,
      Quantifier quantifier,
      String until,
      int untilLine,
      List<Stage> group) {
    public boolean isGroup() {
      return !group.isEmpty();
    }
  }

  /** When a derived event is emitted. */
  public enum Trigger {
    MATCH,
    TIMEOUT
  }

  /** A derived event to a named output: each field is a CEL expression over the matched stages. */
  public record Derived(String output, String type, Trigger on, Map<String, String> fields, int line) {}

  /**
   * Whether this rule is a <i>simple sequence</i>: single-event stages ({@code once}: no group,
   * quantifier, {@code optional} or {@code until}), each joined to the one before by {@code next} or
   * {@code followedBy}, no window or a first-and-last one, and no output on timeouts. The engine runs
   * these without Flink's NFA, and only these may match in {@link Order#ARRIVAL arrival order}.
   */
  public boolean isSimpleSequence() {
    boolean timeouts = alertOnTimeout || derived.stream().anyMatch(d -> d.on() == Trigger.TIMEOUT);
    if (timeouts || (within != null && withinKind != WithinKind.FIRST_AND_LAST)) {
      return false;
    }
    for (int i = 0; i < pattern.size(); i++) {
      Stage s = pattern.get(i);
      if (s.isGroup() || !s.quantifier().equals(Quantifier.ONCE) || s.until() != null) {
        return false;
      }
      if (i > 0 && s.contiguity() != Contiguity.NEXT && s.contiguity() != Contiguity.FOLLOWED_BY) {
        return false;
      }
    }
    return true;
  }

  /** Every single-event stage, groups flattened, in pattern order. */
  public List<Stage> leafStages() {
    return leaves(pattern);
  }

  private static List<Stage> leaves(List<Stage> stages) {
    List<Stage> out = new java.util.ArrayList<>();
    for (Stage s : stages) {
      if (s.isGroup()) {
        out.addAll(leaves(s.group()));
      } else {
        out.add(s);
      }
    }
    return out;
  }

  /** The event type a single-event stage reads. */
  public String eventTypeOf(Stage stage) {
    return stage.eventType() != null ? stage.eventType() : eventTypes.get(0);
  }

  /** {@code id@version}: names this version's state. */
  public String versionKey() {
    return id + "@" + version;
  }
}
