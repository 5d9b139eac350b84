package io.vigil.cep.cel;

import dev.cel.runtime.CelEvaluationException;
import io.vigil.functions.event.Envelopes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;

/**
 * A stage's CEL condition as a Flink CEP condition over envelopes.
 *
 * <p>It holds only for events of the stage's event type. The current event's fields are bound as
 * variables; the stages the expression names are read from the partial match ({@link
 * IterativeCondition.Context#getEventsForPattern}) and only those, so a condition that reads no
 * earlier stage costs no state access. A condition that fails while evaluating (for example {@code
 * first(small)} while {@code small} is still empty) is false: a rule can never fail the job.
 *
 * <p>A condition is a pure function of the event and the partial match, and Flink's NFA often tests
 * the same pair twice in a row (a stage's take condition, then its negation as the stage's ignore
 * condition, within one context per partial match), or the same event against a condition that
 * reads no stage once per partial match; so it remembers its last result, keyed by the identity
 * of the event and, for a condition that reads stages, of the context (the partial match).
 *
 * <p>A condition with a {@link FastCondition} is evaluated by it, reading the stages in place;
 * only what it leaves undecided goes to CEL's interpreter with bound variables.
 */
public final class StageCondition extends IterativeCondition<GenericRecord> {

  private static final long serialVersionUID = 1L;

  /** A partial match's stages for the fast path, read in place from Flink's context. */
  private static final StageAccess<Context<GenericRecord>> PARTIAL_MATCH =
      new StageAccess<>() {
        @Override
        public Iterable<GenericRecord> events(Context<GenericRecord> context, String stage) throws Exception {
          return context.getEventsForPattern(stage);
        }

        @Override
        public GenericRecord event(GenericRecord envelope) {
          return Envelopes.event(envelope);
        }
      };

  private final String eventType;
  private final transient CompiledExpression expression;
  private final transient Set<String> stages;
  /**
   * The stage variables the expression reads ({@code small}, {@code small.amount}), grouped by
   * stage: for stage {@code stageNames[i]}, the field each of its variables projects (null for the
   * whole stage), in the order of {@code variables}. Bound from arrays: building a map per
   * evaluation cost more than looking the few names up.
   */
  private final transient String[] stageNames;
  private final transient String[][] stageFields;
  private final transient String[] variables;
  /** A stage without a condition ({@code where: "true"}): only the event type decides. */
  private final boolean alwaysTrue;
  private transient Last last;

  /** The last test and its result, as one object so a reader sees a consistent triple. */
  private record Last(GenericRecord envelope, Context<GenericRecord> context, boolean result) {}

  public StageCondition(String eventType, CompiledExpression expression) {
    this.eventType = eventType;
    this.expression = expression;
    Set<String> names = new LinkedHashSet<>();
    for (String variable : expression.stageVariables()) {
      int dot = variable.indexOf('.');
      names.add(dot < 0 ? variable : variable.substring(0, dot));
    }
    this.stages = Set.copyOf(names);
    this.stageNames = names.toArray(String[]::new);
    this.stageFields = new String[stageNames.length][];
    List<String> all = new ArrayList<>();
    for (int i = 0; i < stageNames.length; i++) {
      List<String> vars = new ArrayList<>();
      List<String> fields = new ArrayList<>();
      for (String variable : expression.stageVariables()) {
        if (variable.equals(stageNames[i])) {
          vars.add(variable);
          fields.add(null);
        } else if (variable.startsWith(stageNames[i] + ".")) {
          vars.add(variable);
          fields.add(variable.substring(stageNames[i].length() + 1));
        }
      }
      stageFields[i] = fields.toArray(String[]::new);
      all.addAll(vars);
    }
    this.variables = all.toArray(String[]::new);
    this.alwaysTrue = expression.text().strip().equals("true");
  }

  @Override
  public boolean filter(GenericRecord envelope, Context<GenericRecord> ctx) throws Exception {
    Context<GenericRecord> partialMatch = stages.isEmpty() ? null : ctx;
    Last l = last;
    if (l != null && l.envelope() == envelope && l.context() == partialMatch) {
      return l.result();
    }
    boolean result = evaluate(envelope, ctx);
    last = new Last(envelope, partialMatch, result);
    return result;
  }

  /**
   * Whether this condition is false for {@code envelope} whatever the partial match, judged only
   * by cheap necessary conditions: the event type, and the string fields the expression requires
   * to equal a literal ({@link CompiledExpression#requiredEquals}). False means "maybe".
   */
  public boolean excludes(GenericRecord envelope) {
    GenericRecord event = Envelopes.event(envelope);
    if (!event.getSchema().getName().equals(eventType)) {
      return true;
    }
    for (Map.Entry<String, String> required : expression.requiredEquals().entrySet()) {
      Schema.Field field = event.getSchema().getField(required.getKey());
      if (field != null && !required.getValue().equals(CelValues.value(event.get(field.pos())))) {
        return true;
      }
    }
    return false;
  }

  private boolean evaluate(GenericRecord envelope, Context<GenericRecord> ctx) throws Exception {
    GenericRecord event = Envelopes.event(envelope);
    if (!event.getSchema().getName().equals(eventType)) {
      return false;
    }
    if (alwaysTrue) {
      return true;
    }
    FastCondition fast = expression.fast();
    if (fast != null) {
      Boolean result = fast.test(event, ctx, PARTIAL_MATCH);
      if (result != null) {
        return result;
      }
    }
    Object[] values = new Object[variables.length];
    int v = 0;
    for (int i = 0; i < stageNames.length; i++) {
      List<GenericRecord> events = new ArrayList<>(2);
      for (GenericRecord matched : ctx.getEventsForPattern(stageNames[i])) {
        events.add(Envelopes.event(matched));
      }
      for (String field : stageFields[i]) {
        values[v++] = field == null ? CelValues.stageList(events) : CelValues.projection(events, field);
      }
    }
    try {
      // A resolver rather than a map: CEL copies a map activation on every evaluation. Stage
      // variables shadow "event", which shadows the event's fields (the compiler rejects names
      // that would clash). A field is read on demand: converting the whole record costs more than
      // the few fields a condition reads.
      Object result =
          expression.eval(
              name -> {
                for (int i = 0; i < variables.length; i++) {
                  if (variables[i].equals(name)) {
                    return Optional.of(values[i]);
                  }
                }
                return Optional.ofNullable("event".equals(name) ? CelValues.fields(event) : CelValues.field(event, name));
              });
      return Boolean.TRUE.equals(result);
    } catch (CelEvaluationException e) {
      return false;
    }
  }
}
