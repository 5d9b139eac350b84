package io.vigil.bench.pipeline;

import io.vigil.bench.CountingSink;
import io.vigil.bench.Dataset;
import io.vigil.bench.MemorySource;
import io.vigil.functions.event.Envelopes;
import io.vigil.functions.ingest.DeadLetterRouter;
import io.vigil.functions.ingest.EnvelopeWatermarks;
import io.vigil.jobs.spec.CompiledSpec;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The "limit" row: what Flink can do with the input at all when each record is decoded and
 * validated by Vigil's decoder and nothing else happens. Source (decode + validate, watermarks)
 * -> dead-letter routing -> sinks (counting ones, or a Kafka sink for valid events in the Kafka
 * table), all chained: no network hop, no state.
 *
 * <p>Counts: {@code limit.valid}, {@code limit.dead-letters}.
 */
public final class LimitJob {

  public static final String VALID = "limit.valid";
  public static final String DEAD_LETTERS = "limit.dead-letters";

  private LimitJob() {}

  /** Adds the job to {@code env}, reading {@code dataset} {@code repeat} times, valid events to a counting sink. */
  public static void build(StreamExecutionEnvironment env, CompiledSpec spec, Dataset dataset, int repeat) {
    build(env, spec, MemorySource.repeated(dataset, new EnvelopeConverter(spec.decode()), repeat), new CountingSink<>(VALID));
  }

  /**
   * Adds the job to {@code env}, reading envelopes from {@code source} and writing the valid ones to
   * {@code validSink}; dead letters are counted under {@link #DEAD_LETTERS}.
   */
  public static void build(StreamExecutionEnvironment env, CompiledSpec spec, Source<GenericRecord, ?, ?> source, Sink<GenericRecord> validSink) {
    TypeInformation<GenericRecord> type = Envelopes.typeInfo(spec.eventSchema());
    SingleOutputStreamOperator<GenericRecord> valid =
        env.fromSource(
                source,
                EnvelopeWatermarks.forEnvelopes(spec.maxOutOfOrderness(), spec.idleTimeout()),
                "Source: envelopes",
                type)
            .uid("source")
            .process(new DeadLetterRouter(spec.eventTypeName()))
            .returns(type)
            .uid("route-dead-letters")
            .name("Validate and route dead letters");
    valid.sinkTo(validSink).uid("sink-valid").name("Sink: valid");
    valid.getSideOutput(DeadLetterRouter.DEAD_LETTERS)
        .sinkTo(new CountingSink<>(DEAD_LETTERS))
        .uid("sink-dead-letters")
        .name("Sink: dead letters");
  }
}
