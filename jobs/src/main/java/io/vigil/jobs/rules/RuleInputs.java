package io.vigil.jobs.rules;

import io.vigil.cep.engine.RuleEnvelopes;
import io.vigil.schemas.AnomalyScore;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.util.Collector;

/**
 * What a job feeds its rule engine when rules may read anomaly scores: the engine's input is one
 * envelope type whose event is a union of the job's event type and {@code AnomalyScore} ({@link
 * RuleEnvelopes#schema}), so both streams are moved into it. Stateless.
 */
public final class RuleInputs {

  private RuleInputs() {}

  /** A valid envelope of the job's event type, as an envelope of the union. */
  public static final class Events extends RichMapFunction<GenericRecord, GenericRecord> {
    private static final long serialVersionUID = 1L;
    private final String targetJson;
    private transient Schema target;

    public Events(Schema target) {
      this.targetJson = target.toString();
    }

    @Override
    public void open(OpenContext openContext) {
      target = new Schema.Parser().parse(targetJson);
    }

    @Override
    public GenericRecord map(GenericRecord envelope) {
      return RuleEnvelopes.rewrap(target, envelope);
    }
  }

  /**
   * A score at or above {@code minScore}, as an envelope of the union keyed by the score's key;
   * lower scores are dropped (see {@code vigil.rules.min-score}).
   */
  public static final class Scores extends RichFlatMapFunction<AnomalyScore, GenericRecord> {
    private static final long serialVersionUID = 1L;
    private final String targetJson;
    private final double minScore;
    private transient Schema target;

    public Scores(Schema target, double minScore) {
      this.targetJson = target.toString();
      this.minScore = minScore;
    }

    @Override
    public void open(OpenContext openContext) {
      target = new Schema.Parser().parse(targetJson);
    }

    @Override
    public void flatMap(AnomalyScore score, Collector<GenericRecord> out) {
      if (score.getScore() >= minScore) {
        out.collect(RuleEnvelopes.score(target, score));
      }
    }
  }
}
