package io.vigil.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The results of one harness run: tables of rows (name -> column values) and ratios with their
 * targets, printed as text and written as JSON. Values are plain numbers and strings, so the JSON
 * is stable for tools.
 */
public final class Report {

  /** One printed table. */
  public record Table(String title, String note, List<String> columns, List<Map<String, Object>> rows) {}

  /** A ratio with its target (null for none) and whether it is met. */
  public record Ratio(String name, double value, Double target, String meaning) {
    public Boolean met() {
      return target == null ? null : value >= target;
    }
  }

  private final Map<String, Object> machine = new LinkedHashMap<>();
  private final Map<String, Object> settings = new LinkedHashMap<>();
  private final List<Table> tables = new ArrayList<>();
  private final List<Ratio> ratios = new ArrayList<>();

  public Report() {
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
    machine.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
  }

  public Map<String, Object> machine() {
    return machine;
  }

  public Map<String, Object> settings() {
    return settings;
  }

  public List<Table> tables() {
    return tables;
  }

  public List<Ratio> ratios() {
    return ratios;
  }

  public void add(Table table) {
    tables.add(table);
  }

  public void add(Ratio ratio) {
    ratios.add(ratio);
  }

  /** The table called {@code title}, or null. */
  public Table table(String title) {
    return tables.stream().filter(t -> t.title().equals(title)).findFirst().orElse(null);
  }

  public void print(PrintStream out) {
    out.println();
    out.println("machine: " + machine);
    out.println("settings: " + settings);
    for (Table table : tables) {
      out.println();
      out.println("## " + table.title());
      if (table.note() != null) {
        out.println(table.note());
      }
      List<Integer> widths = new ArrayList<>();
      for (String c : table.columns()) {
        int w = c.length();
        for (Map<String, Object> row : table.rows()) {
          w = Math.max(w, format(row.get(c)).length());
        }
        widths.add(w);
      }
      StringBuilder header = new StringBuilder("|");
      StringBuilder rule = new StringBuilder("|");
      for (int i = 0; i < widths.size(); i++) {
        header.append(' ').append(pad(table.columns().get(i), widths.get(i))).append(" |");
        rule.append(' ').append("-".repeat(widths.get(i))).append(" |");
      }
      out.println(header);
      out.println(rule);
      for (Map<String, Object> row : table.rows()) {
        StringBuilder line = new StringBuilder("|");
        for (int i = 0; i < widths.size(); i++) {
          line.append(' ').append(pad(format(row.get(table.columns().get(i))), widths.get(i))).append(" |");
        }
        out.println(line);
      }
    }
    if (!ratios.isEmpty()) {
      out.println();
      out.println("## Ratios");
      for (Ratio r : ratios) {
        out.printf("- %s: %s%s (%s)%n", r.name(), format(r.value()),
            r.target() == null ? "" : " (target >= " + format(r.target()) + (r.met() ? ", met)" : ", MISSED)"), r.meaning());
      }
    }
  }

  public void writeJson(Path file) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("machine", machine);
    root.put("settings", settings);
    root.put("tables", tables);
    root.put("ratios", ratios);
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
  }

  static String format(Object value) {
    if (value == null) {
      return "";
    }
    if (value instanceof Double d) {
      double a = Math.abs(d);
      if (a >= 100) {
        return String.format("%,.0f", d);
      }
      if (a >= 1) {
        return String.format("%.2f", d);
      }
      return String.format("%.3f", d);
    }
    if (value instanceof Long || value instanceof Integer) {
      return String.format("%,d", value);
    }
    return value.toString();
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(Math.max(0, width - s.length()));
  }
}
