package io.vigil.jobs.rules;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.schemas.RuleCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of change to a rules folder becomes the right command, once; the state survives a round trip. */
class RuleFolderWatchTest {

  private static final String RULE =
      """
      id: %s
      version: %d
      severity: low
      eventTypes: [SensorReading]
      key: deviceId
      pattern:
        - name: hot
          where: "temperature > %s"
      """;

  @TempDir Path folder;

  private RuleFolderWatch watch(Map<String, RuleFolderWatch.Known> known) {
    return new RuleFolderWatch(folder, Set.of("SensorReading"), "deviceId", known);
  }

  private static List<String> describe(List<RuleCommand> commands) {
    return commands.stream().map(c -> c.getAction() + " " + c.getRuleId() + (c.getVersion() == null ? "" : " v" + c.getVersion())).toList();
  }

  @Test
  void addsUpdatesDisablesEnablesAndDeletesOncePerChange() throws Exception {
    RuleFolderWatch watch = watch(Map.of());
    Files.writeString(folder.resolve("a.yaml"), RULE.formatted("a", 1, "30.0"));
    Files.writeString(folder.resolve("b.yaml"), RULE.formatted("b", 1, "30.0"));
    Files.writeString(folder.resolve("notes.txt"), "not a rule");
    assertThat(describe(watch.scan())).containsExactly("ADD a v1", "ADD b v1");
    assertThat(watch.scan()).as("nothing changed").isEmpty();

    Files.writeString(folder.resolve("a.yaml"), RULE.formatted("a", 2, "40.0"));
    Files.move(folder.resolve("b.yaml"), folder.resolve("b.yaml.disabled"));
    assertThat(describe(watch.scan())).containsExactly("UPDATE a v2", "DISABLE b");

    Files.move(folder.resolve("b.yaml.disabled"), folder.resolve("b.yaml"));
    Files.delete(folder.resolve("a.yaml"));
    assertThat(describe(watch.scan())).containsExactly("DELETE a", "ENABLE b");
    assertThat(watch.scan()).isEmpty();
  }

  @Test
  void anInvalidFileIsSentOnceAndAddedWhenFixed() throws Exception {
    RuleFolderWatch watch = watch(Map.of());
    Files.writeString(folder.resolve("c.yaml"), RULE.formatted("c", 1, "30.0").replace("temperature", "temprature"));
    assertThat(describe(watch.scan())).as("sent, for the engine to reject with a status").containsExactly("ADD c v1");
    assertThat(watch.scan()).isEmpty();
    Files.writeString(folder.resolve("c.yaml"), RULE.formatted("c", 1, "30.0"));
    assertThat(describe(watch.scan())).as("never in the engine: an ADD, not an UPDATE").containsExactly("ADD c v1");
    Files.writeString(folder.resolve("c.yaml"), RULE.formatted("c", 1, "35.0"));
    assertThat(describe(watch.scan())).as("same version: sent, the engine rejects it").containsExactly("UPDATE c v1");
  }

  @Test
  void aRestoredWatchSendsOnlyWhatChangedSinceItsState() throws Exception {
    RuleFolderWatch first = watch(Map.of());
    Files.writeString(folder.resolve("a.yaml"), RULE.formatted("a", 1, "30.0"));
    Files.writeString(folder.resolve("b.yaml"), RULE.formatted("b", 1, "30.0"));
    first.scan();
    Files.move(folder.resolve("a.yaml"), folder.resolve("a.yaml.disabled"));
    RuleFolderWatch restored = watch(first.known());
    assertThat(describe(restored.scan())).containsExactly("DISABLE a");
  }

  @Test
  void aMissingFolderChangesNothing() throws Exception {
    RuleFolderWatch watch = watch(Map.of());
    Files.writeString(folder.resolve("a.yaml"), RULE.formatted("a", 1, "30.0"));
    watch.scan();
    RuleFolderWatch gone = new RuleFolderWatch(folder.resolve("unmounted"), Set.of("SensorReading"), "deviceId", watch.known());
    assertThat(gone.scan()).as("no DELETE for a folder that cannot be read").isEmpty();
  }
}
