package io.vigil.jobs.cli;

import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.spec.SpecCompiler;
import io.vigil.jobs.spec.SpecError;
import io.vigil.jobs.spec.SpecException;
import java.nio.file.Path;
import java.util.Optional;

/** How every command reads a spec: compiled, or each error printed to stderr as file:line: path: problem. */
final class CliSpecs {

  private CliSpecs() {}

  static Optional<CompiledSpec> compileOrReport(Path file) {
    return compileOrReport(file, true);
  }

  /** With {@code checkFolderRules} false, invalid rule files in the spec's rules folder are not errors. */
  static Optional<CompiledSpec> compileOrReport(Path file, boolean checkFolderRules) {
    try {
      return Optional.of(SpecCompiler.compile(file, checkFolderRules));
    } catch (SpecException e) {
      e.errors().stream().map(SpecError::toString).forEach(System.err::println);
      return Optional.empty();
    }
  }
}
