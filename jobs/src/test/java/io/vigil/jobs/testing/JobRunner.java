package io.vigil.jobs.testing;

import io.vigil.jobs.JobSinks;
import io.vigil.jobs.NamedSink;
import io.vigil.jobs.VigilJob;
import io.vigil.jobs.connectors.Connectors;
import io.vigil.jobs.kafka.CommittedRecords;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.spec.SpecCompiler;
import io.vigil.jobs.spec.SpecException;
import io.vigil.jobs.spec.SpecLoader;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.WindowAggregate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Compiles test specs, runs them against Kafka on the test's MiniCluster, and reads their outputs. */
public final class JobRunner {

  private JobRunner() {}

  public static CompiledSpec compile(String yaml) {
    try {
      return SpecCompiler.compile(SpecLoader.parse("test-spec.yaml", yaml), Map.<String, String>of()::get);
    } catch (SpecException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Runs {@code spec} with a bounded Kafka source at parallelism 2, plus any extra aggregate sinks. */
  public static void runBounded(CompiledSpec spec, List<NamedSink<WindowAggregate>> extraAggregateSinks) throws Exception {
    boundedJob(spec, extraAggregateSinks).execute(spec.name());
  }

  /**
   * Starts {@code spec} like {@link #runBounded} and returns once the job is submitted, for tests
   * that act while it runs; its source reads at most {@code eventsPerSecond} in total, so the
   * job's output flows at a steady pace for the whole run.
   */
  public static JobClient startThrottled(CompiledSpec spec, double eventsPerSecond) throws Exception {
    return boundedJob(spec, ThrottledSource.of(Connectors.kafkaSource(spec, true), eventsPerSecond), List.of()).executeAsync(spec.name());
  }

  private static StreamExecutionEnvironment boundedJob(CompiledSpec spec, List<NamedSink<WindowAggregate>> extraAggregateSinks) {
    return boundedJob(spec, Connectors.kafkaSource(spec, true), extraAggregateSinks);
  }

  private static StreamExecutionEnvironment boundedJob(
      CompiledSpec spec, Source<GenericRecord, ?, ?> source, List<NamedSink<WindowAggregate>> extraAggregateSinks) {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    JobSinks sinks = Connectors.sinks(spec).withAggregates(extraAggregateSinks);
    new VigilJob(spec, source, sinks).build(env);
    return env;
  }

  public static List<WindowAggregate> aggregates(String bootstrap, String topic) {
    List<WindowAggregate> out = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : CommittedRecords.read(bootstrap, topic)) {
      try {
        out.add(WindowAggregate.getDecoder().decode(ByteBuffer.wrap(r.value())));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  public static List<DeadLetter> deadLetters(String bootstrap, String topic) {
    List<DeadLetter> out = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : CommittedRecords.read(bootstrap, topic)) {
      try {
        out.add(DeadLetter.getDecoder().decode(ByteBuffer.wrap(r.value())));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }
}
