package io.vigil.bench.pipeline;

import io.vigil.bench.CountingSink;
import io.vigil.bench.Dataset;
import io.vigil.bench.MemorySource;
import io.vigil.jobs.JobSinks;
import io.vigil.jobs.NamedSink;
import io.vigil.jobs.VigilJob;
import io.vigil.jobs.spec.CompiledSpec;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The "Vigil" row: the whole {@link VigilJob} of the spec (decode, validate, windows, detectors,
 * rule engine), unchanged, between an in-memory source and counting sinks.
 *
 * <p>Counts: {@code vigil.aggregates}, {@code vigil.scores}, {@code vigil.alerts}, {@code
 * vigil.rule-status}, {@code vigil.dead-letters}.
 */
public final class VigilPipeline {

  public static final String AGGREGATES = "vigil.aggregates";
  public static final String SCORES = "vigil.scores";
  public static final String ALERTS = "vigil.alerts";
  public static final String RULE_STATUS = "vigil.rule-status";
  public static final String DEAD_LETTERS = "vigil.dead-letters";

  private VigilPipeline() {}

  /** Counting sinks for every output. */
  public static JobSinks countingSinks() {
    return new JobSinks(
        List.of(named(AGGREGATES)),
        List.of(named(SCORES)),
        List.of(named(ALERTS)),
        List.of(named(RULE_STATUS)),
        List.of(),
        List.of(named(DEAD_LETTERS)));
  }

  /** Adds the job to {@code env}, reading {@code source} (envelopes of the spec's event type). */
  public static void build(StreamExecutionEnvironment env, CompiledSpec spec, Source<GenericRecord, ?, ?> source, JobSinks sinks) {
    new VigilJob(spec, source, sinks).build(env);
  }

  /** Adds the job to {@code env}, reading {@code dataset} once, with counting sinks. */
  public static void build(StreamExecutionEnvironment env, CompiledSpec spec, Dataset dataset) {
    build(env, spec, MemorySource.of(dataset, new EnvelopeConverter(spec.decode())), countingSinks());
  }

  /** A sink under a name that is also its id (part of its uid). */
  public static <T> NamedSink<T> named(String name, Sink<T> sink) {
    return new NamedSink<>(name, name, sink);
  }

  private static <T> NamedSink<T> named(String name) {
    return named(name, new CountingSink<>(name));
  }
}
