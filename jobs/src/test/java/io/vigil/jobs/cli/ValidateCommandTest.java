package io.vigil.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ValidateCommandTest {

  private record Run(int exit, String out, String err) {}

  private static Run vigil(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = new CommandLine(new VigilCli()).execute(args);
      return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  @Test
  void acceptsTheShippedSpecs() {
    Run run = vigil("validate", "specs/iot-telemetry.yaml", "specs/iot-telemetry-kafka.yaml");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("specs/iot-telemetry.yaml: OK (job 'iot-telemetry'").contains("3 aggregation(s)");
  }

  @Test
  void rejectsABrokenSpecWithFileLineAndExitCode1(@TempDir Path dir) throws Exception {
    Path spec = dir.resolve("broken.yaml");
    Files.writeString(spec, Files.readString(Path.of("specs/iot-telemetry.yaml")).replace("size: 1 min", "size: -1 min"));
    Run run = vigil("validate", spec.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains(spec + ":34: aggregations[0].window.size: '-1 min' must be positive");
    assertThat(run.out()).doesNotContain("OK");
  }
}
