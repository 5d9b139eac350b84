package io.vigil.cep.rule;

import io.vigil.cep.rule.Rule.AfterMatch;
import io.vigil.cep.rule.Rule.Order;
import io.vigil.cep.rule.Rule.Contiguity;
import io.vigil.cep.rule.Rule.Derived;
import io.vigil.cep.rule.Rule.Quantifier;
import io.vigil.cep.rule.Rule.Stage;
import io.vigil.cep.rule.Rule.Trigger;
import io.vigil.cep.rule.Rule.WithinKind;
import io.vigil.schemas.Severity;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a rule's YAML document into a {@link Rule}, checking its shape: required keys, unknown
 * keys, value types, durations, quantifiers that cannot match. Conditions are kept as CEL text;
 * they are type-checked by {@link RuleValidator}. SnakeYAML's node API is used (not data binding)
 * so that every error carries the line it is about; documents are composed with the safe loader
 * (no tags, no object construction).
 */
public final class RuleParser {

  private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9.\\-_]{0,127}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
  private static final Pattern DURATION =
      Pattern.compile("\\s*(\\d+)\\s*(ms|s|min|h|d)\\s*");
  private static final Pattern SKIP_TO = Pattern.compile("(skip-to-first|skip-to-last)\\((\\w+)\\)");
  private static final Set<String> RULE_KEYS =
      Set.of(
          "id", "version", "description", "severity", "eventTypes", "key", "within",
          "withinType", "afterMatch", "order", "pattern", "emit");
  private static final Set<String> STAGE_KEYS =
      Set.of(
          "name", "after", "eventType", "where", "times", "oneOrMore", "timesOrMore", "optional",
          "greedy", "consecutive", "allowCombinations", "until", "group");
  private static final Set<String> EMIT_KEYS = Set.of("alerts", "derived");
  private static final Set<String> DERIVED_KEYS = Set.of("output", "type", "on", "fields");

  private String ruleId;

  private RuleParser() {}

  /** Parses one rule document; the result is shape-checked only (see {@link RuleValidator}). */
  public static Rule parse(String yaml) throws RuleException {
    return new RuleParser().parseDocument(yaml);
  }

  private Rule parseDocument(String yaml) throws RuleException {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      options.setMaxAliasesForCollections(0);
      root = new Yaml(new SafeConstructor(options)).compose(new StringReader(yaml));
    } catch (MarkedYAMLException e) {
      throw new RuleException(null, e.getProblemMark().getLine() + 1, "not valid YAML: " + e.getProblem());
    } catch (RuntimeException e) {
      throw new RuleException(null, 1, "not valid YAML: " + e.getMessage());
    }
    if (!(root instanceof MappingNode rootMap)) {
      throw new RuleException(null, root == null ? 1 : line(root), "a rule is a YAML mapping");
    }
    Map<String, NodeTuple> fields = mapping(rootMap, RULE_KEYS, "");
    Node idNode = required(fields, "id", rootMap, "");
    ruleId = scalar(idNode, "id");
    if (!ID.matcher(ruleId).matches()) {
      throw error(idNode, "id: '" + ruleId + "' is not a rule id (lower-case letters, digits, '.', '-', '_')");
    }
    int version = integer(required(fields, "version", rootMap, ""), "version");
    if (version < 1) {
      throw error(fields.get("version").getValueNode(), "version: must be 1 or more");
    }
    String description = fields.containsKey("description")
        ? scalar(fields.get("description").getValueNode(), "description") : "";
    Severity severity = Severity.MEDIUM;
    if (fields.containsKey("severity")) {
      Node n = fields.get("severity").getValueNode();
      String s = scalar(n, "severity").toUpperCase(Locale.ROOT);
      try {
        severity = Severity.valueOf(s);
      } catch (IllegalArgumentException e) {
        throw error(n, "severity: '" + s + "' is not one of info, low, medium, high, critical");
      }
    }
    List<String> eventTypes = new ArrayList<>();
    Node typesNode = required(fields, "eventTypes", rootMap, "");
    if (typesNode instanceof ScalarNode) {
      eventTypes.add(scalar(typesNode, "eventTypes"));
    } else {
      for (Node n : sequence(typesNode, "eventTypes")) {
        eventTypes.add(scalar(n, "eventTypes[]"));
      }
    }
    if (eventTypes.isEmpty()) {
      throw error(typesNode, "eventTypes: name at least one event type");
    }
    String key = scalar(required(fields, "key", rootMap, ""), "key");
    Duration within = null;
    if (fields.containsKey("within")) {
      within = duration(fields.get("within").getValueNode(), "within");
    }
    WithinKind withinKind = WithinKind.FIRST_AND_LAST;
    if (fields.containsKey("withinType")) {
      Node n = fields.get("withinType").getValueNode();
      String s = scalar(n, "withinType");
      withinKind = switch (s) {
        case "first-and-last" -> WithinKind.FIRST_AND_LAST;
        case "previous-and-current" -> WithinKind.PREVIOUS_AND_CURRENT;
        default -> throw error(n, "withinType: '" + s + "' is not first-and-last or previous-and-current");
      };
      if (within == null) {
        throw error(n, "withinType: needs a 'within' duration");
      }
    }
    AfterMatch afterMatch = new AfterMatch(AfterMatch.Kind.NO_SKIP, null);
    if (fields.containsKey("afterMatch")) {
      afterMatch = afterMatch(fields.get("afterMatch").getValueNode());
    }
    Node patternNode = required(fields, "pattern", rootMap, "");
    List<Stage> pattern = stages(patternNode, "pattern");
    boolean alertOnMatch = true;
    boolean alertOnTimeout = false;
    List<Derived> derived = new ArrayList<>();
    if (fields.containsKey("emit")) {
      Node emitNode = fields.get("emit").getValueNode();
      Map<String, NodeTuple> emit = mapping(emitNode, EMIT_KEYS, "emit.");
      if (emit.containsKey("alerts")) {
        alertOnMatch = false;
        for (Node n : sequence(emit.get("alerts").getValueNode(), "emit.alerts")) {
          switch (trigger(n, "emit.alerts[]")) {
            case MATCH -> alertOnMatch = true;
            case TIMEOUT -> alertOnTimeout = true;
          }
        }
      }
      if (emit.containsKey("derived")) {
        List<Node> items = sequence(emit.get("derived").getValueNode(), "emit.derived");
        for (int i = 0; i < items.size(); i++) {
          derived.add(derived(items.get(i), "emit.derived[" + i + "]."));
        }
      }
    }
    if ((alertOnTimeout || derived.stream().anyMatch(d -> d.on() == Trigger.TIMEOUT)) && within == null) {
      throw error(patternNode, "timeouts need a 'within' duration: a partial match without one never expires");
    }
    Order order = Order.EVENT_TIME;
    Node orderNode = null;
    if (fields.containsKey("order")) {
      orderNode = fields.get("order").getValueNode();
      String s = scalar(orderNode, "order");
      order = switch (s) {
        case "event-time" -> Order.EVENT_TIME;
        case "arrival" -> Order.ARRIVAL;
        default -> throw error(orderNode, "order: '" + s + "' is not event-time or arrival");
      };
    }
    Rule rule = new Rule(
        ruleId, version, description, severity, List.copyOf(eventTypes), key, pattern, within,
        withinKind, afterMatch, order, alertOnMatch, alertOnTimeout, List.copyOf(derived), yaml);
    if (order == Order.ARRIVAL && !rule.isSimpleSequence()) {
      throw error(
          orderNode,
          "order: arrival needs a simple sequence (single-event stages joined by next or followedBy, no "
              + "quantifier, optional, until or group, a first-and-last window, no output on timeouts); "
              + "use event-time for this rule");
    }
    return rule;
  }

  private List<Stage> stages(Node node, String path) throws RuleException {
    List<Node> items = sequence(node, path);
    if (items.isEmpty()) {
      throw error(node, path + ": a pattern needs at least one stage");
    }
    List<Stage> stages = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      stages.add(stage(items.get(i), path + "[" + i + "]", i == 0));
    }
    return List.copyOf(stages);
  }

  private Stage stage(Node node, String path, boolean first) throws RuleException {
    String p = path + ".";
    Map<String, NodeTuple> f = mapping(node, STAGE_KEYS, p);
    boolean group = f.containsKey("group");
    String name = null;
    if (f.containsKey("name")) {
      Node n = f.get("name").getValueNode();
      name = scalar(n, p + "name");
      if (!NAME.matcher(name).matches()) {
        throw error(n, p + "name: '" + name + "' is not a stage name (letters, digits, '_'; it is used as a CEL variable)");
      }
    } else if (!group) {
      throw error(node, p + "name: every stage needs a name");
    }
    Contiguity contiguity = Contiguity.FOLLOWED_BY;
    if (f.containsKey("after")) {
      Node n = f.get("after").getValueNode();
      if (first) {
        throw error(n, p + "after: the first stage of a pattern or group has nothing before it");
      }
      String s = scalar(n, p + "after");
      contiguity = switch (s) {
        case "next" -> Contiguity.NEXT;
        case "followedBy" -> Contiguity.FOLLOWED_BY;
        case "followedByAny" -> Contiguity.FOLLOWED_BY_ANY;
        case "notNext" -> Contiguity.NOT_NEXT;
        case "notFollowedBy" -> Contiguity.NOT_FOLLOWED_BY;
        default -> throw error(n, p + "after: '" + s + "' is not next, followedBy, followedByAny, notNext or notFollowedBy");
      };
    }
    String eventType = f.containsKey("eventType") ? scalar(f.get("eventType").getValueNode(), p + "eventType") : null;
    String where = null;
    int whereLine = line(node);
    if (f.containsKey("where")) {
      if (group) {
        throw error(f.get("where").getValueNode(), p + "where: a group has no condition of its own; put it on its stages");
      }
      where = scalar(f.get("where").getValueNode(), p + "where");
      whereLine = line(f.get("where").getValueNode());
    }
    String until = null;
    int untilLine = whereLine;
    if (f.containsKey("until")) {
      until = scalar(f.get("until").getValueNode(), p + "until");
      untilLine = line(f.get("until").getValueNode());
    }
    Quantifier q = quantifier(f, node, p);
    if (until != null && (group || q.max() != -1)) {
      throw error(f.get("until").getValueNode(), p + "until: only a single-event stage with oneOrMore or timesOrMore can have 'until'");
    }
    boolean negative = contiguity == Contiguity.NOT_NEXT || contiguity == Contiguity.NOT_FOLLOWED_BY;
    if (negative && (q.looping() || q.optional())) {
      throw error(node, p + "a " + (contiguity == Contiguity.NOT_NEXT ? "notNext" : "notFollowedBy") + " stage cannot be optional or quantified");
    }
    if (negative && group) {
      throw error(node, p + "a group cannot be negated");
    }
    List<Stage> members = group ? stages(f.get("group").getValueNode(), p + "group") : List.of();
    return new Stage(name, line(node), contiguity, eventType, where, whereLine, q, until, untilLine, members);
  }

  private Quantifier quantifier(Map<String, NodeTuple> f, Node node, String p) throws RuleException {
    int min = 1;
    int max = 1;
    int kinds = 0;
    if (f.containsKey("times")) {
      kinds++;
      Node n = f.get("times").getValueNode();
      if (n instanceof SequenceNode seq) {
        List<Node> bounds = seq.getValue();
        if (bounds.size() != 2) {
          throw error(n, p + "times: write a count (times: 3) or a range (times: [2, 4])");
        }
        min = integer(bounds.get(0), p + "times[0]");
        max = integer(bounds.get(1), p + "times[1]");
        if (min < 0 || max < 1 || min > max) {
          throw error(n, p + "times: [" + min + ", " + max + "] is not a range 0 <= from <= to, to >= 1");
        }
      } else {
        min = integer(n, p + "times");
        max = min;
        if (min < 1) {
          throw error(n, p + "times: must be 1 or more (use optional: true for zero)");
        }
      }
    }
    if (f.containsKey("oneOrMore") && bool(f.get("oneOrMore").getValueNode(), p + "oneOrMore")) {
      kinds++;
      min = 1;
      max = -1;
    }
    if (f.containsKey("timesOrMore")) {
      kinds++;
      Node n = f.get("timesOrMore").getValueNode();
      min = integer(n, p + "timesOrMore");
      max = -1;
      if (min < 1) {
        throw error(n, p + "timesOrMore: must be 1 or more");
      }
    }
    if (kinds > 1) {
      throw error(node, p + "use only one of times, oneOrMore, timesOrMore");
    }
    boolean optional = flag(f, "optional", p);
    boolean greedy = flag(f, "greedy", p);
    boolean consecutive = flag(f, "consecutive", p);
    boolean combinations = flag(f, "allowCombinations", p);
    boolean looping = max != 1 || min != 1;
    if ((consecutive || combinations) && !looping) {
      throw error(node, p + "consecutive and allowCombinations apply only to a quantified stage (times, oneOrMore, timesOrMore)");
    }
    if (consecutive && combinations) {
      throw error(node, p + "consecutive and allowCombinations exclude each other");
    }
    if (greedy && !looping) {
      throw error(node, p + "greedy applies only to a quantified stage");
    }
    return new Quantifier(min, max, optional, greedy, consecutive, combinations);
  }

  private Derived derived(Node node, String p) throws RuleException {
    Map<String, NodeTuple> f = mapping(node, DERIVED_KEYS, p);
    String output = scalar(required(f, "output", node, p), p + "output");
    String type = scalar(required(f, "type", node, p), p + "type");
    Trigger on = f.containsKey("on") ? trigger(f.get("on").getValueNode(), p + "on") : Trigger.MATCH;
    Map<String, String> exprs = new LinkedHashMap<>();
    if (f.containsKey("fields")) {
      for (NodeTuple t : mappingTuples(f.get("fields").getValueNode(), p + "fields")) {
        exprs.put(scalar(t.getKeyNode(), p + "fields"), scalar(t.getValueNode(), p + "fields"));
      }
    }
    return new Derived(output, type, on, Map.copyOf(exprs), line(node));
  }

  private Trigger trigger(Node n, String path) throws RuleException {
    String s = scalar(n, path);
    return switch (s) {
      case "match" -> Trigger.MATCH;
      case "timeout" -> Trigger.TIMEOUT;
      default -> throw error(n, path + ": '" + s + "' is not match or timeout");
    };
  }

  private AfterMatch afterMatch(Node n) throws RuleException {
    String s = scalar(n, "afterMatch").replace(" ", "");
    switch (s) {
      case "no-skip":
        return new AfterMatch(AfterMatch.Kind.NO_SKIP, null);
      case "skip-to-next":
        return new AfterMatch(AfterMatch.Kind.SKIP_TO_NEXT, null);
      case "skip-past-last-event":
        return new AfterMatch(AfterMatch.Kind.SKIP_PAST_LAST_EVENT, null);
      default:
        Matcher m = SKIP_TO.matcher(s);
        if (!m.matches()) {
          throw error(n, "afterMatch: '" + s + "' is not no-skip, skip-to-next, skip-past-last-event, skip-to-first(stage) or skip-to-last(stage)");
        }
        return new AfterMatch(
            m.group(1).equals("skip-to-first") ? AfterMatch.Kind.SKIP_TO_FIRST : AfterMatch.Kind.SKIP_TO_LAST,
            m.group(2));
    }
  }

  /** Parses durations written like {@code 5 s}, {@code 10 min}, {@code 250 ms}, {@code 2 h}, {@code 1 d}. */
  static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text);
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "min" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  private Duration duration(Node n, String path) throws RuleException {
    String s = scalar(n, path);
    Duration d = parseDuration(s);
    if (d == null || d.isZero()) {
      throw error(n, path + ": '" + s + "' is not a positive duration; write it like '5 s', '10 min', '250 ms', '2 h'");
    }
    return d;
  }

  private Map<String, NodeTuple> mapping(Node node, Set<String> allowed, String path) throws RuleException {
    Map<String, NodeTuple> out = new LinkedHashMap<>();
    for (NodeTuple t : mappingTuples(node, path.isEmpty() ? "rule" : path.substring(0, path.length() - 1))) {
      String k = scalar(t.getKeyNode(), path + "key");
      if (!allowed.contains(k)) {
        throw error(t.getKeyNode(), path + k + ": unknown key; expected one of " + new java.util.TreeSet<>(allowed));
      }
      out.put(k, t);
    }
    return out;
  }

  private List<NodeTuple> mappingTuples(Node node, String path) throws RuleException {
    if (!(node instanceof MappingNode m)) {
      throw error(node, path + ": expected a mapping");
    }
    return m.getValue();
  }

  private List<Node> sequence(Node node, String path) throws RuleException {
    if (!(node instanceof SequenceNode s)) {
      throw error(node, path + ": expected a list");
    }
    return s.getValue();
  }

  private Node required(Map<String, NodeTuple> fields, String key, Node parent, String path) throws RuleException {
    NodeTuple t = fields.get(key);
    if (t == null) {
      throw error(parent, path + key + ": required");
    }
    return t.getValueNode();
  }

  private String scalar(Node n, String path) throws RuleException {
    if (!(n instanceof ScalarNode s)) {
      throw error(n, path + ": expected a single value");
    }
    return s.getValue();
  }

  private int integer(Node n, String path) throws RuleException {
    String s = scalar(n, path);
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      throw error(n, path + ": '" + s + "' is not a whole number");
    }
  }

  private boolean bool(Node n, String path) throws RuleException {
    String s = scalar(n, path);
    return switch (s) {
      case "true" -> true;
      case "false" -> false;
      default -> throw error(n, path + ": '" + s + "' is not true or false");
    };
  }

  private boolean flag(Map<String, NodeTuple> f, String key, String p) throws RuleException {
    return f.containsKey(key) && bool(f.get(key).getValueNode(), p + key);
  }

  private static int line(Node n) {
    return n.getStartMark().getLine() + 1;
  }

  private RuleException error(Node n, String problem) {
    return new RuleException(ruleId, n == null ? 1 : line(n), problem);
  }
}
