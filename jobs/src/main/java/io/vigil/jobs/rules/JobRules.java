package io.vigil.jobs.rules;

import io.vigil.cep.compile.RuleCompiler;
import io.vigil.cep.rule.Rule;
import io.vigil.cep.rule.RuleException;
import io.vigil.jobs.spec.CompiledSpec;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import org.apache.avro.Schema;

/**
 * Checks a rule document against one job before it is sent anywhere: the checks the job's rule
 * engine makes when a command arrives (it compiles; it reads only event types the engine
 * receives; it is keyed by the job's key). The {@code vigil rule} command, the spec compiler and
 * the rules-folder watcher use it, so a rule that passes here is one the running job accepts.
 */
public final class JobRules {

  private JobRules() {}

  /** {@link #check(String, Collection, String)} for the job {@code spec} describes. */
  public static Rule check(String yaml, CompiledSpec spec) throws RuleException {
    return check(yaml, eventTypeNames(spec), spec.decode().keyField());
  }

  /**
   * @param eventTypes the event types the job's rule engine receives
   * @param keyField the field the job is keyed by
   * @throws RuleException naming the rule, the line and the problem
   */
  public static Rule check(String yaml, Collection<String> eventTypes, String keyField) throws RuleException {
    Rule rule = RuleCompiler.compile(yaml).rule();
    for (String type : rule.eventTypes()) {
      if (!eventTypes.contains(type)) {
        String hint = type.equals("AnomalyScore") ? "; scores reach rules from the spec's detectors without groupBy" : "";
        throw new RuleException(rule.id(), 1, "eventTypes: this job's rules read " + new TreeSet<>(eventTypes) + ", not " + type + hint);
      }
    }
    if (!rule.key().equals(keyField)) {
      throw new RuleException(rule.id(), 1, "key: this job is keyed by '" + keyField + "', not '" + rule.key() + "'");
    }
    return rule;
  }

  /** The names of the event types {@code spec}'s rule engine receives. */
  public static List<String> eventTypeNames(CompiledSpec spec) {
    return spec.ruleEventSchemas().stream().map(Schema::getName).toList();
  }
}
