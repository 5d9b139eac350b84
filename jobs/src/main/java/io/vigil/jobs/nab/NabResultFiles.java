package io.vigil.jobs.nab;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Per-row result files in NAB's layout: {@code <out>/<detector>/<category>/<detector>_<file>.csv}
 * with columns {@code timestamp,value,anomaly_score,label} (NAB's own files may have more columns
 * after these).
 */
public final class NabResultFiles {

  private NabResultFiles() {}

  /** Where the results of {@code detector} for {@code series} live under {@code root}. */
  public static Path path(Path root, String detector, NabSeries series) {
    return root.resolve(detector)
        .resolve(series.category())
        .resolve(detector + "_" + series.name() + ".csv");
  }

  /** Writes one file of results; {@code scores[i]} is row i's anomaly score. */
  public static void write(Path file, NabSeries series, double[] scores) {
    try {
      Files.createDirectories(file.getParent());
      try (BufferedWriter out = Files.newBufferedWriter(file)) {
        out.write("timestamp,value,anomaly_score,label\n");
        for (int i = 0; i < series.size(); i++) {
          out.write(
              series.timestamps().get(i).format(NabCorpus.TIMESTAMP)
                  + ","
                  + plain(series.values()[i])
                  + ","
                  + scores[i]
                  + ","
                  + series.label(i)
                  + "\n");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The {@code anomaly_score} column of a result file, in row order. */
  public static double[] readScores(Path file) {
    List<Double> scores = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file)) {
      String header = in.readLine();
      int column = header == null ? -1 : Arrays.asList(header.split(",")).indexOf("anomaly_score");
      if (column < 0) {
        throw new IllegalArgumentException(file + ": no anomaly_score column");
      }
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.isBlank()) {
          scores.add(Double.parseDouble(line.split(",")[column]));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return scores.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static String plain(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }
}
