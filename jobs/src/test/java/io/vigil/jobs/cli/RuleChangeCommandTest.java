package io.vigil.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code vigil rule} on a spec without a control topic changes the watched rules folder. */
class RuleChangeCommandTest {

  private static final Path EXAMPLES = Path.of("..", "cep-patterns", "examples");

  private record Run(int exit, String out, String err) {}

  @TempDir Path dir;
  private Path spec;
  private Path rules;

  @BeforeEach
  void spec() throws Exception {
    rules = Files.createDirectory(dir.resolve("rules"));
    spec = Files.writeString(
        dir.resolve("local.yaml"),
        """
        name: local
        eventType: SensorReading
        key: deviceId
        eventTime: eventTime
        rules:
          folder: rules
        outputs:
          alerts: [{ kind: console }]
          ruleStatus: [{ kind: file, path: out/rule-status }]
          deadLetters: [{ kind: console }]
        """);
  }

  private static Run vigil(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new VigilCli()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private String files() throws Exception {
    try (Stream<Path> s = Files.list(rules)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList().toString();
    }
  }

  @Test
  void addUpdateDisableEnableDeleteChangeTheFolderFile() throws Exception {
    Run add = vigil("rule", "add", spec.toString(), "--file", EXAMPLES.resolve("warm-streak.yaml").toString());
    assertThat(add.exit()).as(add.err()).isZero();
    assertThat(add.out()).contains("ADD of rule 'iot.warm-streak' version 1: wrote " + rules.resolve("iot.warm-streak.yaml"))
        .contains("the running job picks the change up").contains("RuleStatus on " + Path.of("out/rule-status").toAbsolutePath());
    assertThat(Files.readString(rules.resolve("iot.warm-streak.yaml"))).isEqualTo(Files.readString(EXAMPLES.resolve("warm-streak.yaml")));

    assertThat(vigil("rule", "update", spec.toString(), "--file", EXAMPLES.resolve("warm-streak-v2.yaml").toString()).exit()).isZero();
    assertThat(Files.readString(rules.resolve("iot.warm-streak.yaml"))).contains("version: 2");

    assertThat(vigil("rule", "disable", spec.toString(), "--id", "iot.warm-streak").exit()).isZero();
    assertThat(files()).isEqualTo("[iot.warm-streak.yaml.disabled]");
    assertThat(vigil("rule", "enable", spec.toString(), "--id", "iot.warm-streak").exit()).isZero();
    assertThat(files()).isEqualTo("[iot.warm-streak.yaml]");
    assertThat(vigil("rule", "delete", spec.toString(), "--id", "iot.warm-streak").exit()).isZero();
    assertThat(files()).isEqualTo("[]");
  }

  @Test
  void anInvalidRuleIsReportedWithItsLineAndNothingIsWritten() throws Exception {
    Run run = vigil("rule", "add", spec.toString(), "--file", EXAMPLES.resolve("hot-typo.yaml").toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("hot-typo.yaml: rule 'iot.hot-typo' line 10: hot.where: undeclared reference to 'temprature'").contains("nothing sent");
    assertThat(files()).isEqualTo("[]");
  }

  @Test
  void aRuleTheJobCannotRunIsRejectedBeforeAnythingIsWritten() throws Exception {
    // This spec has no detector, so its rules receive no anomaly scores.
    Path rule = Files.writeString(dir.resolve("score.yaml"), io.vigil.cep.RuleLibrary.shipped("iot/anomaly-then-overheat.yaml"));
    Run run = vigil("rule", "add", spec.toString(), "--file", rule.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("eventTypes: this job's rules read [SensorReading], not AnomalyScore");
    assertThat(files()).isEqualTo("[]");
  }

  @Test
  void anUpdateThatIsNotNewerAndAnAddOfAnExistingRuleChangeNothing() throws Exception {
    Path v1 = EXAMPLES.resolve("warm-streak.yaml");
    assertThat(vigil("rule", "add", spec.toString(), "--file", v1.toString()).exit()).isZero();
    Run again = vigil("rule", "add", spec.toString(), "--file", v1.toString());
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("already has a file").contains("use update");
    Run same = vigil("rule", "update", spec.toString(), "--file", v1.toString());
    assertThat(same.exit()).isEqualTo(1);
    assertThat(same.err()).contains("version 1 is not newer than version 1");
    assertThat(Files.readString(rules.resolve("iot.warm-streak.yaml"))).isEqualTo(Files.readString(v1));
  }
}
