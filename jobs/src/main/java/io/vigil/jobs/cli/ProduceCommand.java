package io.vigil.jobs.cli;

import io.vigil.jobs.demo.DemoTraffic;
import io.vigil.jobs.spec.CompiledSpec;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vigil produce <spec>}: fills a Kafka spec's input topic with demo sensor readings. */
@Command(name = "produce", description = "Write generated demo events to a Kafka spec's input topic.")
final class ProduceCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "SPEC", description = "A job spec with an input.kafka section.")
  Path specFile;

  @Option(names = "--max-events", defaultValue = "100000", description = "How many events (default ${DEFAULT-VALUE}).")
  long events;

  @Option(names = "--bootstrap-servers", description = "Kafka to write to (default: the spec's).")
  String bootstrapServers;

  @Override
  public Integer call() {
    Optional<CompiledSpec> compiled = CliSpecs.compileOrReport(specFile);
    if (compiled.isEmpty()) {
      return 2;
    }
    CompiledSpec spec = compiled.get();
    if (spec.kafka().isEmpty()) {
      System.err.println(specFile + ": produce needs a spec with an input.kafka section");
      return 2;
    }
    CompiledSpec.KafkaInput input = spec.kafka().get();
    String servers = bootstrapServers != null ? bootstrapServers : input.bootstrapServers();
    String topic = input.topics().get(0);
    long start = System.nanoTime();
    DemoTraffic.produce(servers, topic, spec.generator(), events);
    System.out.printf("Wrote %,d events to %s at %s in %.1f s%n", events, topic, servers, (System.nanoTime() - start) / 1e9);
    return 0;
  }
}
