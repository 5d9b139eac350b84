package io.vigil.jobs.cli;

import io.vigil.jobs.VigilJob;
import io.vigil.jobs.connectors.Connectors;
import io.vigil.jobs.demo.DemoSource;
import io.vigil.jobs.demo.DemoTraffic;
import io.vigil.jobs.kafka.CommittedRecords;
import io.vigil.jobs.kafka.EmbeddedKafkaBroker;
import io.vigil.jobs.options.VigilOptions;
import io.vigil.jobs.spec.CompiledSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vigil run <spec>}: compiles the spec, supplies the production connectors and runs the job
 * on whatever environment this process has (a local mini-cluster, or the cluster of {@code flink
 * run}). With {@code --embedded-kafka} it first starts a real Kafka broker in this process, fills
 * the input topic from the demo generator and points every Kafka address of the spec at it.
 */
@Command(name = "run", description = "Run a job spec.")
final class RunCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "SPEC", description = "The job spec (YAML).")
  Path specFile;

  @Option(
      names = "--max-events",
      description = "Stop after this many input events: the generator makes this many; a Kafka"
          + " input reads up to the offsets that are latest at start. Default: run forever.")
  Long maxEvents;

  @Option(
      names = "--embedded-kafka",
      description = "Start a Kafka broker in this process, write --max-events (default 200000)"
          + " generated events to the spec's input topic, run the job against it, and read the"
          + " outputs back.")
  boolean embeddedKafka;

  @Option(
      names = "--events-per-second",
      description = "Pace the demo generator (overrides input.generator.eventsPerSecond; 0 = as fast as possible).")
  Long eventsPerSecond;

  @Option(names = "--parallelism", description = "Job parallelism (default: Flink's).")
  Integer parallelism;

  @Option(names = "-D", paramLabel = "KEY=VALUE", description = "A Flink or Vigil setting, overriding the spec's.")
  Map<String, String> settings = new HashMap<>();

  @Override
  public Integer call() throws Exception {
    Optional<CompiledSpec> compiled = CliSpecs.compileOrReport(specFile);
    if (compiled.isEmpty()) {
      return 2;
    }
    CompiledSpec spec = compiled.get();
    if (eventsPerSecond != null) {
      if (eventsPerSecond < 0) {
        System.err.println("--events-per-second must be 0 or positive");
        return 2;
      }
      spec = spec.withGeneratorRate(eventsPerSecond);
    }
    if (embeddedKafka) {
      return runWithEmbeddedKafka(spec);
    }
    RunSummary summary = execute(spec, maxEvents != null);
    if (summary != null) {
      summary.print(System.out, spec);
    }
    return 0;
  }

  private int runWithEmbeddedKafka(CompiledSpec original) throws Exception {
    if (original.kafka().isEmpty()) {
      System.err.println(specFile + ": --embedded-kafka needs a spec with an input.kafka section");
      return 2;
    }
    long events = maxEvents == null ? 200_000 : maxEvents;
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      CompiledSpec spec = original.withKafkaBootstrapServers(broker.bootstrapServers());
      Set<String> outputTopics = new LinkedHashSet<>();
      spec.aggregateOutputs().forEach(o -> topicOf(o, outputTopics));
      spec.scoreOutputs().forEach(o -> topicOf(o, outputTopics));
      spec.alertOutputs().forEach(o -> topicOf(o, outputTopics));
      spec.ruleStatusOutputs().forEach(o -> topicOf(o, outputTopics));
      spec.derivedOutputs().forEach(o -> topicOf(o, outputTopics));
      spec.rules().map(CompiledSpec.RuleSettings::controlTopic).ifPresent(outputTopics::add);
      spec.deadLetterOutputs().forEach(o -> topicOf(o, outputTopics));
      String input = spec.kafka().orElseThrow().topics().get(0);
      broker.createTopic(input, 4);
      for (String topic : outputTopics) {
        broker.createTopic(topic, 4);
      }
      System.out.printf("Kafka broker at %s; writing %,d generated events to '%s'%n", broker.bootstrapServers(), events, input);
      DemoTraffic.produce(broker.bootstrapServers(), input, spec.generator(), events);
      execute(spec, true).print(System.out, spec);
      for (String topic : outputTopics) {
        System.out.printf("  topic %-28s %,d committed records (read_committed)%n", topic, CommittedRecords.read(broker.bootstrapServers(), topic).size());
      }
    }
    return 0;
  }

  private static void topicOf(CompiledSpec.Output output, Set<String> topics) {
    if (output instanceof CompiledSpec.KafkaOutput k) {
      topics.add(k.topic());
    }
  }

  /** Runs the job; returns its summary, or null when the job was submitted to a cluster detached. */
  private RunSummary execute(CompiledSpec spec, boolean bounded) throws Exception {
    Configuration cli = Configuration.fromMap(settings);
    if (parallelism != null) {
      cli.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
    }
    // -D settings win over the spec's, the command line being the later word.
    spec.configuration().addAll(cli);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cli);
    // Only a local run gets a temporary checkpoint directory: under `flink run` the cluster's own
    // execution.checkpointing.dir applies, and a client-side path would break recovery.
    Path checkpoints = null;
    if (env instanceof LocalStreamEnvironment && spec.configuration().getOptional(VigilOptions.CHECKPOINT_DIR).isEmpty()) {
      checkpoints = Files.createTempDirectory("vigil-checkpoints");
      spec.configuration().set(VigilOptions.CHECKPOINT_DIR, checkpoints.toUri().toString());
    }
    VigilJob job;
    if (spec.kafka().isPresent()) {
      job = new VigilJob(spec, Connectors.kafkaSource(spec, bounded), Connectors.sinks(spec));
    } else {
      if (!spec.eventTypeName().equals("SensorReading")) {
        throw new IllegalArgumentException("the demo generator makes SensorReading events; spec '" + spec.name() + "' reads " + spec.eventTypeName() + ": give it an input.kafka section");
      }
      Source<GenericRecord, ?, ?> demo = DemoSource.create(spec, maxEvents == null ? Long.MAX_VALUE : maxEvents);
      // Without --max-events the generator never ends: keep reading rule changes too.
      job = new VigilJob(spec, demo, Connectors.sinks(spec)).withSourceParallelism(1).continuous(maxEvents == null);
    }
    Connectors.verifyTransactionTimeouts(spec);
    job.build(env);
    long start = System.nanoTime();
    JobExecutionResult result = env.execute("vigil " + spec.name());
    if (!result.isJobExecutionResult()) {
      System.out.println("Submitted job " + result.getJobID());
      return null;
    }
    long elapsed = System.nanoTime() - start;
    if (checkpoints != null) {
      FileUtils.deleteDirectoryQuietly(checkpoints.toFile());
    }
    return RunSummary.of(result, elapsed);
  }

  /** Totals from the job's accumulators, printed after a local run. */
  record RunSummary(Map<String, Long> counts, long elapsedNanos) {
    static RunSummary of(JobExecutionResult result, long elapsedNanos) {
      Map<String, Long> counts = new TreeMap<>();
      result.getAllAccumulatorResults().forEach((k, v) -> counts.put(k, ((Number) v).longValue()));
      return new RunSummary(counts, elapsedNanos);
    }

    void print(java.io.PrintStream out, CompiledSpec spec) {
      long in = counts.getOrDefault("events.in", 0L);
      double seconds = elapsedNanos / 1e9;
      out.printf("%nVigil job '%s' finished in %.1f s%n", spec.name(), seconds);
      out.printf("  events in          %,d (%,.0f events/s)%n", in, in / Math.max(seconds, 1e-9));
      out.printf("  aggregates out     %,d%n", counts.getOrDefault("aggregates.out", 0L));
      long anomalous = counts.getOrDefault("scores.anomalous", 0L);
      long scored = anomalous + counts.getOrDefault("scores.normal", 0L);
      if (scored > 0) {
        out.printf("  anomaly scores     %,d (%,d anomalous)%n", scored, anomalous);
      }
      long matches = counts.getOrDefault("alerts.MATCH", 0L);
      long timeouts = counts.getOrDefault("alerts.TIMEOUT", 0L);
      if (spec.rules().isPresent()) {
        out.printf("  alerts             %,d (%,d matches, %,d timeouts)%n", matches + timeouts, matches, timeouts);
      }
      long dead = counts.entrySet().stream().filter(e -> e.getKey().startsWith("deadLetters.")).mapToLong(Map.Entry::getValue).sum();
      out.printf("  dead letters       %,d%n", dead);
      counts.forEach((k, v) -> {
        if (k.startsWith("deadLetters.")) {
          out.printf("    %-22s %,d%n", k.substring("deadLetters.".length()), v);
        }
      });
      for (CompiledSpec.Output o : spec.aggregateOutputs()) {
        if (o instanceof CompiledSpec.FileOutput f) {
          out.printf("  aggregates in      %s%n", f.path().toAbsolutePath());
        }
      }
      for (CompiledSpec.Output o : spec.scoreOutputs()) {
        if (o instanceof CompiledSpec.FileOutput f) {
          out.printf("  scores in          %s%n", f.path().toAbsolutePath());
        }
      }
      for (CompiledSpec.Output o : spec.alertOutputs()) {
        if (o instanceof CompiledSpec.FileOutput f) {
          out.printf("  alerts in          %s%n", f.path().toAbsolutePath());
        }
      }
      for (CompiledSpec.Output o : spec.deadLetterOutputs()) {
        if (o instanceof CompiledSpec.FileOutput f) {
          out.printf("  dead letters in    %s%n", f.path().toAbsolutePath());
        }
      }
    }
  }
}
