package io.vigil.cep.compile;

import dev.cel.common.types.SimpleType;
import io.vigil.cep.cel.CelEnvironment;
import io.vigil.cep.cel.CelEnvironment.StageType;
import io.vigil.cep.cel.CompiledExpression;
import io.vigil.cep.cel.StageCondition;
import io.vigil.cep.compile.CompiledRule.DerivedOutput;
import io.vigil.cep.rule.Rule;
import io.vigil.cep.rule.Rule.Quantifier;
import io.vigil.cep.rule.Rule.Stage;
import io.vigil.cep.rule.RuleException;
import io.vigil.cep.rule.RuleParser;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.EventTypes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.nfa.compiler.NFACompiler;
import org.apache.flink.cep.pattern.MalformedPatternException;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.WithinType;

/**
 * Validates a rule and compiles it to a Flink CEP pattern.
 *
 * <p>Checks, each reported as a {@link RuleException} with the rule id and line: the YAML shape
 * ({@link RuleParser}); that the event types exist in {@link EventTypes} (or are {@code
 * AnomalyScore}, whose {@code key} field holds the entity key) and carry the key field;
 * unique stage names that do not shadow event fields; CEL conditions type-checked against the
 * stage's Avro schema (unknown fields, wrong types, a non-boolean condition); after-match stages
 * that exist; and finally Flink's own pattern checks (for example a trailing {@code
 * notFollowedBy} without {@code within}), by building the pattern and its NFA.
 */
public final class RuleCompiler {

  /** Anomaly scores, which a job feeds to its rules besides its input events. */
  private static final Schema SCORES = AnomalyScore.getClassSchema();

  private RuleCompiler() {}

  /** The schema of an event type a rule may read: an input type from {@link EventTypes}, or AnomalyScore. */
  private static Schema ruleEventSchema(String type) {
    if (type.equals(SCORES.getName())) {
      return SCORES;
    }
    return EventTypes.find(type).map(EventTypes.EventType::current).orElse(null);
  }

  /** Parses, validates and compiles one rule document. */
  public static CompiledRule compile(String yaml) throws RuleException {
    return compile(RuleParser.parse(yaml));
  }

  /** Validates and compiles a parsed rule. */
  public static CompiledRule compile(Rule rule) throws RuleException {
    Map<String, Schema> schemas = new LinkedHashMap<>();
    int firstLine = rule.pattern().get(0).line();
    for (String type : rule.eventTypes()) {
      Schema schema = ruleEventSchema(type);
      if (schema == null) {
        List<String> known = new ArrayList<>(EventTypes.names());
        known.add(SCORES.getName());
        throw new RuleException(rule.id(), 1, "eventTypes: unknown event type '" + type + "'; known: " + known);
      }
      // A score's own `key` field holds the entity key it was computed for, so a rule keyed by
      // deviceId can read scores of a detector keyed by deviceId.
      Schema.Field key = schema == SCORES ? schema.getField("key") : schema.getField(rule.key());
      if (key == null) {
        throw new RuleException(rule.id(), 1, "key: event type " + type + " has no field '" + rule.key() + "'");
      }
      schemas.put(type, schema);
    }
    List<Stage> leaves = rule.leafStages();
    List<StageType> stageTypes = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Stage s : leaves) {
      if (!names.add(s.name())) {
        throw new RuleException(rule.id(), s.line(), "stage name '" + s.name() + "' is used twice");
      }
      if (s.eventType() == null && rule.eventTypes().size() > 1) {
        throw new RuleException(
            rule.id(), s.line(), "stage '" + s.name() + "': the rule reads several event types; name this stage's eventType");
      }
      String type = rule.eventTypeOf(s);
      if (!schemas.containsKey(type)) {
        throw new RuleException(
            rule.id(), s.line(), "stage '" + s.name() + "': eventType '" + type + "' is not one of the rule's eventTypes " + rule.eventTypes());
      }
      stageTypes.add(new StageType(s.name(), schemas.get(type)));
    }
    for (Stage s : leaves) {
      for (Schema schema : schemas.values()) {
        if (schema.getField(s.name()) != null || s.name().equals("event")) {
          throw new RuleException(
              rule.id(), s.line(), "stage name '" + s.name() + "' would hide the event field of that name; rename the stage");
        }
      }
    }
    Rule.AfterMatch am = rule.afterMatch();
    if (am.stage() != null && !names.contains(am.stage())) {
      throw new RuleException(rule.id(), 1, "afterMatch: no stage named '" + am.stage() + "'");
    }
    AfterMatchSkipStrategy skip =
        switch (am.kind()) {
          case NO_SKIP -> AfterMatchSkipStrategy.noSkip();
          case SKIP_TO_NEXT -> AfterMatchSkipStrategy.skipToNext();
          case SKIP_PAST_LAST_EVENT -> AfterMatchSkipStrategy.skipPastLastEvent();
          case SKIP_TO_FIRST -> AfterMatchSkipStrategy.skipToFirst(am.stage());
          case SKIP_TO_LAST -> AfterMatchSkipStrategy.skipToLast(am.stage());
        };

    Map<String, StageCondition> wheres = new HashMap<>();
    Map<String, StageCondition> untils = new HashMap<>();
    for (Stage s : leaves) {
      Schema schema = schemas.get(rule.eventTypeOf(s));
      CelEnvironment env = new CelEnvironment(schema, stageTypes, SimpleType.BOOL);
      String type = schema.getName();
      wheres.put(s.name(), new StageCondition(type, cel(rule, env, s.where() == null ? "true" : s.where(), s.whereLine(), s.name() + ".where")));
      if (s.until() != null) {
        untils.put(s.name(), new StageCondition(type, cel(rule, env, s.until(), s.untilLine(), s.name() + ".until")));
      }
    }
    List<DerivedOutput> derived = new ArrayList<>();
    CelEnvironment derivedEnv = new CelEnvironment(null, stageTypes, SimpleType.DYN);
    for (Rule.Derived d : rule.derived()) {
      Map<String, CompiledExpression> fields = new LinkedHashMap<>();
      for (Map.Entry<String, String> f : d.fields().entrySet()) {
        fields.put(f.getKey(), cel(rule, derivedEnv, f.getValue(), d.line(), "emit.derived." + d.output() + "." + f.getKey()));
      }
      derived.add(new DerivedOutput(d, fields));
    }

    Pattern<GenericRecord, GenericRecord> pattern = chain(rule, rule.pattern(), skip, wheres, untils);
    if (rule.within() != null) {
      pattern =
          pattern.within(
              rule.within(),
              rule.withinKind() == Rule.WithinKind.FIRST_AND_LAST
                  ? WithinType.FIRST_AND_LAST
                  : WithinType.PREVIOUS_AND_CURRENT);
    }
    CompiledRule compiled;
    try {
      boolean timeouts = rule.alertOnTimeout() || rule.derived().stream().anyMatch(d -> d.on() == Rule.Trigger.TIMEOUT);
      NFACompiler.NFAFactory<GenericRecord> factory = NFACompiler.compileFactory(pattern, timeouts);
      factory.createNFA();
      compiled =
          new CompiledRule(
              rule, pattern, factory, skip, leaves.stream().map(Stage::name).toList(), List.copyOf(derived));
    } catch (MalformedPatternException | IllegalArgumentException | UnsupportedOperationException e) {
      throw new RuleException(rule.id(), firstLine, "pattern: " + e.getMessage());
    }
    return compiled;
  }

  private static Pattern<GenericRecord, GenericRecord> chain(
      Rule rule,
      List<Stage> stages,
      AfterMatchSkipStrategy skip,
      Map<String, StageCondition> wheres,
      Map<String, StageCondition> untils)
      throws RuleException {
    Pattern<GenericRecord, GenericRecord> p = null;
    for (Stage s : stages) {
      try {
        if (s.isGroup()) {
          Pattern<GenericRecord, GenericRecord> group =
              chain(rule, s.group(), AfterMatchSkipStrategy.noSkip(), wheres, untils);
          if (p == null) {
            p = Pattern.begin(group, skip);
          } else {
            p = switch (s.contiguity()) {
              case NEXT -> p.next(group);
              case FOLLOWED_BY -> p.followedBy(group);
              case FOLLOWED_BY_ANY -> p.followedByAny(group);
              default -> throw new RuleException(rule.id(), s.line(), "a group cannot be negated");
            };
          }
        } else {
          if (p == null) {
            p = Pattern.<GenericRecord>begin(s.name(), skip);
          } else {
            p = switch (s.contiguity()) {
              case NEXT -> p.next(s.name());
              case FOLLOWED_BY -> p.followedBy(s.name());
              case FOLLOWED_BY_ANY -> p.followedByAny(s.name());
              case NOT_NEXT -> p.notNext(s.name());
              case NOT_FOLLOWED_BY -> p.notFollowedBy(s.name());
            };
          }
          p = p.where(wheres.get(s.name()));
        }
        p = quantify(p, s.quantifier());
        if (s.until() != null) {
          p = p.until(untils.get(s.name()));
        }
      } catch (MalformedPatternException | IllegalArgumentException | UnsupportedOperationException e) {
        throw new RuleException(rule.id(), s.line(), "stage " + (s.name() == null ? "(group)" : "'" + s.name() + "'") + ": " + e.getMessage());
      }
    }
    return p;
  }

  private static Pattern<GenericRecord, GenericRecord> quantify(
      Pattern<GenericRecord, GenericRecord> p, Quantifier q) {
    if (q.max() == -1) {
      p = q.min() == 1 ? p.oneOrMore() : p.timesOrMore(q.min());
    } else if (q.min() == q.max() && q.min() > 1) {
      p = p.times(q.min());
    } else if (q.min() != q.max()) {
      p = p.times(q.min(), q.max());
    }
    if (q.optional()) {
      p = p.optional();
    }
    if (q.greedy()) {
      p = p.greedy();
    }
    if (q.consecutive()) {
      p = p.consecutive();
    }
    if (q.allowCombinations()) {
      p = p.allowCombinations();
    }
    return p;
  }

  private static CompiledExpression cel(Rule rule, CelEnvironment env, String text, int line, String where)
      throws RuleException {
    try {
      return env.compile(text);
    } catch (IllegalArgumentException e) {
      throw new RuleException(rule.id(), line, where + ": " + e.getMessage());
    }
  }
}
