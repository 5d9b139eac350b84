package io.vigil.cep.compile;

import io.vigil.cep.cel.CompiledExpression;
import io.vigil.cep.rule.Rule;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.nfa.compiler.NFACompiler;
import org.apache.flink.cep.pattern.Pattern;

/**
 * A validated rule compiled to Flink CEP: the {@link Pattern} (conditions are CEL, see {@link
 * io.vigil.cep.cel.StageCondition}), the NFA factory built from it by Flink's own compiler, the
 * after-match skip strategy, and the derived events' compiled field expressions.
 *
 * @param stageNames the single-event stage names in pattern order (alerts list matched events in
 *     this order)
 */
public record CompiledRule(
    Rule rule,
    Pattern<GenericRecord, GenericRecord> pattern,
    NFACompiler.NFAFactory<GenericRecord> nfaFactory,
    AfterMatchSkipStrategy skipStrategy,
    List<String> stageNames,
    List<DerivedOutput> derived) {

  /** A derived event of the rule with its fields' compiled CEL expressions. */
  public record DerivedOutput(Rule.Derived spec, Map<String, CompiledExpression> fields) {}
}
