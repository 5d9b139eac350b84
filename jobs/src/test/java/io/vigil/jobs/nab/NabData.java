package io.vigil.jobs.nab;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the NAB corpus the tests read at run time: {@code <repo>/../shared/nab}. */
final class NabData {

  private NabData() {}

  /**
   * The NAB folder beside the repository. Tests that need it fail (not skip) when it is missing:
   * CI provides it.
   */
  static Path root() {
    // Surefire runs in the module folder (jobs/); the repository root is its parent.
    Path repo = Path.of("").toAbsolutePath().getParent();
    Path nab = repo.resolveSibling("shared").resolve("nab").normalize();
    if (!Files.isRegularFile(nab.resolve("labels/combined_windows.json"))) {
      throw new AssertionError(
          "NAB corpus not found at "
              + nab
              + ": these tests need NAB's data, labels, config and results beside the repository"
              + " (../shared/nab)");
    }
    return nab;
  }
}
