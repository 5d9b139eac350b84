package io.vigil.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vigil.bench.kafka.KafkaSuite;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the whole harness with tiny counts ({@code --smoke}): every section runs (the Kafka one
 * against a real broker process, its outputs read back read_committed), every table row has
 * positive numbers (a latency row may have zero samples: the smoke input is too short for a
 * match), and every pipeline's output equals its oracle. Asserts no timing.
 */
class HarnessSmokeTest {

  @Test
  void everyRowRunsAndMatchesItsOracle(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("results.json");
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    Report report = Main.run(new String[] {"--smoke", "--out", json.toString()}, new PrintStream(text, true, StandardCharsets.UTF_8));

    assertThat(report.tables()).extracting(Report.Table::title).hasSize(Main.SECTIONS.size());
    for (Report.Table table : report.tables()) {
      assertThat(table.rows()).as(table.title()).isNotEmpty();
      for (Map<String, Object> row : table.rows()) {
        for (Map.Entry<String, Object> cell : row.entrySet()) {
          if (cell.getValue() instanceof Number n) {
            if (cell.getKey().equals("samples")) {
              assertThat(n.doubleValue()).as(table.title() + " " + row + " " + cell.getKey()).isNotNegative();
            } else {
              assertThat(n.doubleValue()).as(table.title() + " " + row + " " + cell.getKey()).isPositive().isFinite();
            }
          }
        }
        if (row.containsKey("output = oracle")) {
          assertThat(row.get("output = oracle")).as(table.title() + " " + row).isEqualTo("yes");
        }
      }
    }
    Report.Table throughput = report.table(ThroughputSuite.TITLE);
    assertThat(throughput.rows()).extracting(r -> r.get("state backend") + "/" + r.get("row") + "/" + r.get("parallelism"))
        .containsExactlyInAnyOrder(
            "hashmap/limit/1", "hashmap/limit/2", "hashmap/vigil/1", "hashmap/vigil/2", "hashmap/hand-written/1", "hashmap/hand-written/2",
            "rocksdb/limit/1", "rocksdb/limit/2", "rocksdb/vigil/1", "rocksdb/vigil/2", "rocksdb/hand-written/1", "rocksdb/hand-written/2");

    Report.Table kafka = report.table(KafkaSuite.TITLE);
    assertThat(kafka.rows()).extracting(r -> r.get("row") + "/" + r.get("parallelism"))
        .containsExactlyInAnyOrder("limit/1", "limit/2", "vigil/1", "vigil/2", "hand-written/1", "hand-written/2");

    JsonNode written = new ObjectMapper().readTree(json.toFile());
    assertThat(written.get("tables")).hasSize(report.tables().size());
    assertThat(written.get("ratios")).hasSize(report.ratios().size());
    assertThat(text.toString(StandardCharsets.UTF_8)).contains("## Ratios");
  }
}
