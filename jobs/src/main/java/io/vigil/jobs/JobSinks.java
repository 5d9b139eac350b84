package io.vigil.jobs;

import io.vigil.schemas.Alert;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.DerivedEvent;
import io.vigil.schemas.RuleStatus;
import io.vigil.schemas.WindowAggregate;
import java.util.ArrayList;
import java.util.List;

/** Where a {@link VigilJob}'s outputs go: any number of sinks per kind of record. */
public record JobSinks(
    List<NamedSink<WindowAggregate>> aggregates,
    List<NamedSink<AnomalyScore>> scores,
    List<NamedSink<Alert>> alerts,
    List<NamedSink<RuleStatus>> ruleStatus,
    List<NamedSink<DerivedEvent>> derived,
    List<NamedSink<DeadLetter>> deadLetters) {

  public JobSinks {
    aggregates = List.copyOf(aggregates);
    scores = List.copyOf(scores);
    alerts = List.copyOf(alerts);
    ruleStatus = List.copyOf(ruleStatus);
    derived = List.copyOf(derived);
    deadLetters = List.copyOf(deadLetters);
  }

  /** These sinks with {@code extra} aggregate sinks added (tests add failure injectors this way). */
  public JobSinks withAggregates(List<NamedSink<WindowAggregate>> extra) {
    List<NamedSink<WindowAggregate>> all = new ArrayList<>(aggregates);
    all.addAll(extra);
    return new JobSinks(all, scores, alerts, ruleStatus, derived, deadLetters);
  }
}
