package io.vigil.jobs.cli;

import io.vigil.jobs.spec.CompiledSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code vigil validate <spec>...}: checks specs and starts nothing. Exit code 1 if any is invalid. */
@Command(name = "validate", description = "Check job specs without running them.")
final class ValidateCommand implements Callable<Integer> {

  @Parameters(arity = "1..*", paramLabel = "SPEC", description = "Spec files (YAML).")
  List<Path> specs;

  @Override
  public Integer call() {
    int invalid = 0;
    for (Path file : specs) {
      Optional<CompiledSpec> compiled = CliSpecs.compileOrReport(file);
      if (compiled.isEmpty()) {
        invalid++;
        continue;
      }
      CompiledSpec spec = compiled.get();
      System.out.printf(
          "%s: OK (job '%s', event type %s, %d aggregation(s), input %s)%n",
          file, spec.name(), spec.eventTypeName(), spec.aggregations().size(),
          spec.kafka().map(k -> "Kafka " + k.topics()).orElse("demo generator"));
    }
    return invalid == 0 ? 0 : 1;
  }
}
