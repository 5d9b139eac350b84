package io.vigil.cep.cel;

/**
 * Signals from a {@link FastCondition}'s nodes, thrown rather than returned so the common path
 * passes primitives. Both are shared instances without a stack trace: they are control flow, and
 * the rare evaluation that throws one must stay cheap.
 */
final class FastError extends Exception {

  private static final long serialVersionUID = 1L;

  /** A CEL evaluation error (overflow, division by zero, no overload for null, empty stage). */
  static final FastError ERROR = new FastError("CEL evaluation error");

  /**
   * A value the fast evaluator cannot decide exactly (a field of an unexpected runtime class, two
   * NaNs whose equality CEL decides by object identity): the caller must evaluate with CEL.
   */
  static final FastError FALLBACK = new FastError("needs the CEL interpreter");

  private FastError(String message) {
    super(message, null, false, false);
  }
}
