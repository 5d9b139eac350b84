package io.vigil.jobs.rules;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.schemas.RuleCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.core.io.InputStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The folder source's reader declares the end of time right after its first scan's commands and
 * never before, so the rule engine holds events back until the folder's rules are in place.
 */
class RuleFolderSourceTest {

  private static final String RULE =
      """
      id: %s
      version: 1
      severity: low
      eventTypes: [SensorReading]
      key: deviceId
      pattern:
        - name: hot
          where: "temperature > 50.0"
      """;

  @TempDir Path folder;

  @Test
  void declaresTheEndOfTimeRightAfterTheFirstScansCommandsAndNeverBefore() throws Exception {
    Files.writeString(folder.resolve("a.yaml"), RULE.formatted("a"));
    Files.writeString(folder.resolve("b.yaml"), RULE.formatted("b"));
    RuleFolderSource source = new RuleFolderSource(folder, List.of("SensorReading"), "deviceId", Duration.ofMillis(1), true);
    SourceReader<RuleCommand, RuleFolderSource.FolderSplit> reader = source.createReader(null);
    Recording output = new Recording();

    reader.start();
    assertThat(reader.pollNext(output)).isEqualTo(InputStatus.NOTHING_AVAILABLE);
    assertThat(output.seen).as("before the split: no scan, no watermark").isEmpty();

    reader.addSplits(List.of(new RuleFolderSource.FolderSplit(Map.of())));
    reader.pollNext(output);
    assertThat(output.seen).containsExactly("ADD a", "ADD b", "watermark " + Long.MAX_VALUE);

    Files.writeString(folder.resolve("c.yaml"), RULE.formatted("c"));
    Thread.sleep(5);
    reader.isAvailable().get();
    reader.pollNext(output);
    assertThat(output.seen).as("later scans add commands only").containsExactly("ADD a", "ADD b", "watermark " + Long.MAX_VALUE, "ADD c");
  }

  @Test
  void declaresTheEndOfTimeAfterAnEmptyFirstScan() throws Exception {
    RuleFolderSource source = new RuleFolderSource(folder, List.of("SensorReading"), "deviceId", Duration.ofSeconds(60), true);
    SourceReader<RuleCommand, RuleFolderSource.FolderSplit> reader = source.createReader(null);
    Recording output = new Recording();

    reader.addSplits(List.of(new RuleFolderSource.FolderSplit(Map.of())));
    reader.pollNext(output);

    assertThat(output.seen).containsExactly("watermark " + Long.MAX_VALUE);
  }

  /** Records what the reader emits, in order. */
  private static final class Recording implements ReaderOutput<RuleCommand> {
    final List<String> seen = new ArrayList<>();

    @Override
    public void collect(RuleCommand command) {
      seen.add(command.getAction() + " " + command.getRuleId());
    }

    @Override
    public void collect(RuleCommand command, long timestamp) {
      collect(command);
    }

    @Override
    public void emitWatermark(Watermark watermark) {
      seen.add("watermark " + watermark.getTimestamp());
    }

    @Override
    public void markIdle() {
      seen.add("idle");
    }

    @Override
    public void markActive() {
      seen.add("active");
    }

    @Override
    public SourceOutput<RuleCommand> createOutputForSplit(String splitId) {
      throw new UnsupportedOperationException("the folder source has no split-local output");
    }

    @Override
    public void releaseOutputForSplit(String splitId) {
      throw new UnsupportedOperationException("the folder source has no split-local output");
    }
  }
}
