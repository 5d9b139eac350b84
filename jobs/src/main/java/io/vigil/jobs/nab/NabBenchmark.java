package io.vigil.jobs.nab;

import io.vigil.functions.anomaly.AnomalyScorer;
import io.vigil.functions.anomaly.DetectorSpec;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.SourceRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/**
 * Runs a detector over NAB series through the production operator ({@link AnomalyScorer}) in a
 * Flink job on a local mini-cluster: every row becomes a valid envelope of a {@code NabPoint}
 * event (key = the file's path, offset = the row number), the stream is keyed by the envelope key
 * as jobs key it, and the scores are collected back into per-file arrays in row order.
 *
 * <p>The source has parallelism 1 and the rows are emitted in file order, so each key's rows reach
 * its scorer in order; the scorer runs with the given parallelism. Generic types are disabled, as
 * in every Vigil job.
 */
public final class NabBenchmark {

  /** The event type of a NAB row: its timestamp and value. */
  public static final Schema POINT_SCHEMA =
      SchemaBuilder.record("NabPoint")
          .namespace("io.vigil.nab")
          .fields()
          .requiredLong("timestamp")
          .requiredDouble("value")
          .endRecord();

  private static final String FIELD = "value";

  private NabBenchmark() {}

  /** Scores of {@code detector} for every row of every series, in corpus and row order. */
  public static List<double[]> score(List<NabSeries> corpus, String detector, int parallelism)
      throws Exception {
    Schema envelopeSchema = Envelopes.schema(POINT_SCHEMA);
    List<GenericRecord> envelopes = new ArrayList<>();
    Map<String, double[]> scores = new HashMap<>();
    for (NabSeries series : corpus) {
      scores.put(series.path(), new double[series.size()]);
      for (int i = 0; i < series.size(); i++) {
        GenericRecord point = new GenericData.Record(POINT_SCHEMA);
        long time = series.epochMillis(i);
        point.put("timestamp", time);
        point.put(FIELD, series.values()[i]);
        envelopes.add(
            Envelopes.valid(
                envelopeSchema,
                new SourceRef(series.path(), 0, (long) i, null),
                new byte[0],
                series.path(),
                time,
                point));
      }
    }

    Configuration conf = new Configuration();
    conf.set(PipelineOptions.GENERIC_TYPES, false);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(parallelism);
    DetectorSpec spec =
        new DetectorSpec("nab", List.of(FIELD), detector, 1.0, List.of(), Duration.ofDays(3650));
    TypeInformation<GenericRecord> envelopeType = Envelopes.typeInfo(POINT_SCHEMA);
    DataStream<GenericRecord> rows =
        env.fromData(envelopeType, envelopes.toArray(GenericRecord[]::new))
            .setParallelism(1)
            .uid("nab-rows")
            .name("nab-rows");
    DataStream<AnomalyScore> scored =
        rows.keyBy(Envelopes::key, Types.STRING)
            .process(new AnomalyScorer(spec, "NabPoint"), TypeInformation.of(AnomalyScore.class))
            .uid("nab-scorer")
            .name("nab-scorer");
    long received = 0;
    try (CloseableIterator<AnomalyScore> it = scored.executeAndCollect("vigil-nab-" + detector)) {
      while (it.hasNext()) {
        AnomalyScore score = it.next();
        scores.get(score.getKey())[(int) score.getSource().getOffset()] = score.getScore();
        received++;
      }
    }
    if (received != envelopes.size()) {
      throw new IllegalStateException(
          "the job returned " + received + " scores for " + envelopes.size() + " rows");
    }
    List<double[]> result = new ArrayList<>();
    for (NabSeries series : corpus) {
      result.add(scores.get(series.path()));
    }
    return result;
  }
}
