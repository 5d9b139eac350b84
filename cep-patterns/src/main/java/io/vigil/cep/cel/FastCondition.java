package io.vigil.cep.cel;

import dev.cel.common.CelAbstractSyntaxTree;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;

/**
 * A boolean CEL condition compiled to a tree of small Java nodes that read the event's and the
 * stages' Avro fields directly, for conditions in a subset where that matches CEL exactly. It
 * costs tens of nanoseconds where CEL's interpreter with its variable binding costs microseconds
 * ({@code CelBenchmark}); the interpreter stays the reference and the fallback.
 *
 * <p>The subset: constants (bool, int, double, string, null); the current event's fields ({@code
 * amount}, {@code event.amount}); {@code first(s).f}, {@code last(s).f}; {@code count(s)}, {@code
 * size(s)}, {@code s.size()} of a stage or projection; {@code sum}, {@code avg}, {@code min},
 * {@code max} of a non-nullable numeric projection ({@code sum(s.amount)}); int {@code + - * / %}
 * (overflow and division by zero are errors), double {@code + - * /}, string {@code +}, unary
 * minus; {@code == != < <= > >=} on ints, doubles, strings and bools, int against double, and
 * nullable values against null; {@code && || !} and {@code ?:}. Anything else (macros, {@code
 * has}, lists, maps, conversions, other functions, unsigned ints, nullable bools in logic) keeps
 * the interpreter.
 *
 * <p>Results follow CEL: the errors it raises (overflow, division by zero, an operator on a null
 * field, {@code first} of an empty stage) make the condition false, as {@link StageCondition}
 * treats every failure, yet inside the expression they propagate and are absorbed as CEL absorbs
 * them ({@code error || true} is true). An evaluation the nodes cannot decide exactly (a field of
 * an unexpected runtime class, such as a logical-type value, or two NaNs compared for equality,
 * which CEL decides by object identity) returns null, and the caller evaluates with CEL.
 *
 * <p>Safe to share between threads: the only state is each field node's cached position for the
 * last schema it saw, replaced atomically (see {@link FastNode.FieldRef}).
 */
public final class FastCondition {

  private final FastNode root;

  private FastCondition(FastNode root) {
    this.root = root;
  }

  /**
   * The fast form of a type-checked boolean expression, or empty when it is outside the subset.
   *
   * @param stages the names of the stage variables
   * @param stageVariables the stage variables and their projections, as {@link CelEnvironment}
   *     declares them
   */
  static Optional<FastCondition> of(CelAbstractSyntaxTree ast, Set<String> stages, Set<String> stageVariables) {
    return FastCompiler.compile(ast, stages, stageVariables).map(FastCondition::new);
  }

  /**
   * Whether the condition holds for {@code event} (an unwrapped event) and the partial match
   * {@code context}: TRUE or FALSE (an evaluation error is FALSE), or null when CEL must decide.
   */
  @SuppressWarnings("unchecked")
  public <C> Boolean test(GenericRecord event, C context, StageAccess<C> stages) throws Exception {
    try {
      return root.bool(event, context, (StageAccess<Object>) stages) ? Boolean.TRUE : Boolean.FALSE;
    } catch (FastError e) {
      return e == FastError.ERROR ? Boolean.FALSE : null;
    }
  }
}
