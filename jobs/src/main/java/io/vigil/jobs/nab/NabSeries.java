package io.vigil.jobs.nab;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * One NAB data file: its rows in order and its labelled anomaly windows as row index ranges.
 *
 * @param path path relative to NAB's {@code data/} folder, e.g. {@code realKnownCause/nyc_taxi.csv}
 * @param timestamps row timestamps as written in the file (NAB's timestamps have no zone; read as
 *     UTC)
 * @param values row values
 * @param windows anomaly windows, in order, each {@code [firstRow, lastRow]} inclusive
 */
public record NabSeries(
    String path, List<LocalDateTime> timestamps, double[] values, List<int[]> windows) {

  public int size() {
    return values.length;
  }

  /** The category folder, e.g. {@code realKnownCause}. */
  public String category() {
    return path.substring(0, path.indexOf('/'));
  }

  /** The file name without {@code .csv}, e.g. {@code nyc_taxi}. */
  public String name() {
    String file = path.substring(path.indexOf('/') + 1);
    return file.endsWith(".csv") ? file.substring(0, file.length() - 4) : file;
  }

  /** Row {@code i}'s timestamp as epoch millis (UTC). */
  public long epochMillis(int i) {
    return timestamps.get(i).toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  /** 1 if row {@code i} lies in a labelled window, else 0 (NAB's {@code label} column). */
  public int label(int i) {
    for (int[] w : windows) {
      if (i >= w[0] && i <= w[1]) {
        return 1;
      }
    }
    return 0;
  }
}
