package io.vigil.jobs.nab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads a NAB corpus folder laid out as NAB's repository: {@code data/<category>/<file>.csv}
 * (columns {@code timestamp,value}), {@code labels/combined_windows.json} (the files of the corpus
 * and their windows as timestamp pairs) and {@code config/profiles.json}.
 *
 * <p>The corpus is the set of files listed in {@code combined_windows.json}, sorted by path. A
 * window's bounds are matched to rows by timestamp, as NAB does; a bound that matches no row is an
 * error.
 */
public final class NabCorpus {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Both {@code 2014-04-10 07:15:00} (data) and {@code 2014-04-10 07:15:00.000000} (labels). */
  static final DateTimeFormatter TIMESTAMP =
      new DateTimeFormatterBuilder()
          .appendPattern("yyyy-MM-dd HH:mm:ss")
          .optionalStart()
          .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
          .optionalEnd()
          .toFormatter();

  private NabCorpus() {}

  /** Every series of the corpus under {@code root}, sorted by path. */
  public static List<NabSeries> load(Path root) {
    requireCorpus(root);
    JsonNode windows = readJson(root.resolve("labels/combined_windows.json"));
    List<String> paths = new ArrayList<>();
    windows.fieldNames().forEachRemaining(paths::add);
    paths.sort(null);
    List<NabSeries> series = new ArrayList<>();
    for (String path : paths) {
      series.add(loadSeries(root, path, windows.get(path)));
    }
    return series;
  }

  /** The profiles of {@code config/profiles.json}, in file order. */
  public static List<NabProfile> profiles(Path root) {
    requireCorpus(root);
    JsonNode profiles = readJson(root.resolve("config/profiles.json"));
    List<NabProfile> result = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> it = profiles.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode cost = e.getValue().get("CostMatrix");
      result.add(
          new NabProfile(
              e.getKey(),
              cost.get("tpWeight").asDouble(),
              cost.get("fpWeight").asDouble(),
              cost.get("fnWeight").asDouble()));
    }
    return result;
  }

  /** The profile named {@code name}. */
  public static NabProfile profile(Path root, String name) {
    return profiles(root).stream()
        .filter(p -> p.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no NAB profile " + name));
  }

  private static void requireCorpus(Path root) {
    if (!Files.isRegularFile(root.resolve("labels/combined_windows.json"))) {
      throw new IllegalArgumentException(
          root.toAbsolutePath().normalize()
              + " is not a NAB corpus folder (no labels/combined_windows.json)");
    }
  }

  private static NabSeries loadSeries(Path root, String path, JsonNode windowList) {
    List<LocalDateTime> timestamps = new ArrayList<>();
    List<Double> values = new ArrayList<>();
    Path file = root.resolve("data").resolve(path);
    try (BufferedReader in = Files.newBufferedReader(file)) {
      String header = in.readLine();
      if (header == null || !header.trim().equals("timestamp,value")) {
        throw new IllegalArgumentException(file + ": expected header timestamp,value");
      }
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        int comma = line.indexOf(',');
        timestamps.add(LocalDateTime.parse(line.substring(0, comma).trim(), TIMESTAMP));
        values.add(Double.parseDouble(line.substring(comma + 1).trim()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<LocalDateTime, Integer> rowOf = new HashMap<>();
    for (int i = 0; i < timestamps.size(); i++) {
      rowOf.putIfAbsent(timestamps.get(i), i);
    }
    List<int[]> windows = new ArrayList<>();
    for (JsonNode pair : windowList) {
      windows.add(
          new int[] {
            row(rowOf, path, pair.get(0).asText()), row(rowOf, path, pair.get(1).asText())
          });
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    return new NabSeries(path, List.copyOf(timestamps), v, List.copyOf(windows));
  }

  private static int row(Map<LocalDateTime, Integer> rowOf, String path, String timestamp) {
    Integer row = rowOf.get(LocalDateTime.parse(timestamp, TIMESTAMP));
    if (row == null) {
      throw new IllegalArgumentException(path + ": window bound " + timestamp + " matches no row");
    }
    return row;
  }

  private static JsonNode readJson(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
