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
 */
public record CompiledExpression(String text, CelRuntime.Program program, Set<String> stageVariables) {

  public Object eval(Map<String, ?> activation) throws CelEvaluationException {
    return program.eval(activation);
  }

  /** Evaluates with variables looked up by name on demand (no copy of an activation map). */
  public Object eval(CelVariableResolver variables) throws CelEvaluationException {
    return program.eval(variables);
  }
}
