package io.vigil.cep.cel;

import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelVariableResolver;
import java.util.Map;
import java.util.Set;

/**
 * A type-checked CEL expression, ready to evaluate.
 *
 * @param stageVariables the stage variables ({@code small}, {@code small.amount}) the expression
 *     reads, so the caller materialises only those
 * @param requiredEquals string fields of the current event the expression requires to equal a
 *     literal (from {@code site == 'north' && ...}): it is false for any event without those values
 * @param fast the same expression as a {@link FastCondition}, or null when it is not a boolean
 *     expression in that evaluator's subset; {@code program} is always complete
 */
public record CompiledExpression(
    String text,
    CelRuntime.Program program,
    Set<String> stageVariables,
    Map<String, String> requiredEquals,
    FastCondition fast) {

  /** An expression evaluated only by CEL's interpreter. */
  public CompiledExpression(
      String text, CelRuntime.Program program, Set<String> stageVariables, Map<String, String> requiredEquals) {
    this(text, program, stageVariables, requiredEquals, null);
  }

  public Object eval(Map<String, ?> activation) throws CelEvaluationException {
    return program.eval(activation);
  }

  /** Evaluates with variables looked up by name on demand (no copy of an activation map). */
  public Object eval(CelVariableResolver variables) throws CelEvaluationException {
    return program.eval(variables);
  }
}
