package io.vigil.jobs;

import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.WindowAggregate;
import java.util.List;

/** Where a {@link VigilJob}'s outputs go: any number of sinks per kind of record. */
public record JobSinks(
    List<NamedSink<WindowAggregate>> aggregates,
    List<NamedSink<AnomalyScore>> scores,
    List<NamedSink<DeadLetter>> deadLetters) {

  public JobSinks {
    aggregates = List.copyOf(aggregates);
    scores = List.copyOf(scores);
    deadLetters = List.copyOf(deadLetters);
  }
}
