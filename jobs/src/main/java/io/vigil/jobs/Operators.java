package io.vigil.jobs;

/**
 * The name and uid of every operator, source and sink Vigil puts in a job graph.
 *
 * <p>A uid is how a savepoint finds an operator's state again: never rename one. Per-aggregation
 * and per-output uids are derived from the aggregation's name and the output's identity (topic,
 * path), so renaming an aggregation or moving an output starts its state afresh.
 */
public enum Operators {
  SOURCE("source", "Source: envelopes"),
  COUNT_IN("count-in", "Count events in"),
  ROUTE_DEAD_LETTERS("route-dead-letters", "Validate and route dead letters"),
  COUNT_DEAD_LETTERS("count-dead-letters", "Count dead letters"),
  COUNT_AGGREGATES("count-aggregates", "Count aggregates"),
  WINDOW("window", "Window"),
  DETECTOR("detector", "Anomaly detector"),
  COUNT_SCORES("count-scores", "Count scores"),
  RULE_COMMANDS("rule-commands", "Source: rules at start"),
  RULE_CONTROL("rule-control", "Source: rule control topic"),
  RULE_FOLDER("rule-folder", "Source: rules folder"),
  RULE_INPUT_EVENTS("rule-input-events", "Events to rule input"),
  RULE_INPUT_SCORES("rule-input-scores", "Scores to rule input"),
  RULE_ENGINE("rules", "Rule engine"),
  COUNT_ALERTS("count-alerts", "Count alerts"),
  AGGREGATE_SINK("sink-aggregates", "Sink: aggregates"),
  ALERT_SINK("sink-alerts", "Sink: alerts"),
  RULE_STATUS_SINK("sink-rule-status", "Sink: rule status"),
  DERIVED_SINK("sink-derived", "Sink: derived events"),
  SCORE_SINK("sink-scores", "Sink: scores"),
  DEAD_LETTER_SINK("sink-dead-letters", "Sink: dead letters"),
  TO_JSON("to-json", "To JSON");

  private final String uid;
  private final String displayName;

  Operators(String uid, String displayName) {
    this.uid = uid;
    this.displayName = displayName;
  }

  public String uid() {
    return uid;
  }

  public String displayName() {
    return displayName;
  }

  /** The uid of this operator for one instance of it, e.g. {@code window/device-1m}. */
  public String uid(String instance) {
    return uid + "/" + instance;
  }

  /** The display name for one instance, e.g. {@code Window device-1m}. */
  public String displayName(String instance) {
    return displayName + " " + instance;
  }
}
