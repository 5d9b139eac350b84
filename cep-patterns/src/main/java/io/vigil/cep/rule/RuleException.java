package io.vigil.cep.rule;

/**
 * A rule that cannot be used: bad YAML shape, a CEL condition that does not type-check, an unknown
 * field or event type, an impossible quantifier. The message names the rule, the line and the
 * problem, for example {@code rule 'payments.small-then-large' line 12: pattern[1].where: undefined
 * field 'amunt'}.
 */
public class RuleException extends Exception {

  private final String ruleId;
  private final int line;

  public RuleException(String ruleId, int line, String problem) {
    super("rule '" + (ruleId == null ? "?" : ruleId) + "' line " + line + ": " + problem);
    this.ruleId = ruleId;
    this.line = line;
  }

  /** The rule's id, or null when the document has none. */
  public String ruleId() {
    return ruleId;
  }

  /** 1-based line in the rule's YAML document. */
  public int line() {
    return line;
  }
}
