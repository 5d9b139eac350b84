package io.vigil.jobs.nab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * NAB's scoring rules (Lavin and Ahmad, "Evaluating Real-time Anomaly Detection Algorithms", 2015,
 * and NAB v1.1's sweeper), implemented here from the published rules.
 *
 * <p>For a file of {@code n} rows, the first {@code min(floor(0.15 n), 750)} rows are probationary
 * and never scored. A row whose anomaly score is at least the threshold is a detection. With the
 * scaled sigmoid {@code sigma(y) = 2 / (1 + e^(5y)) - 1} (and {@code -1} for {@code y >= 3}):
 *
 * <ul>
 *   <li>a detection at row {@code i} in a window {@code [L, R]} of {@code w = R - L + 1} rows is
 *       worth {@code A_TP sigma(-(R - i + 1) / w) / sigma(-1)}; only the best (earliest) detection
 *       of a window counts, and a window without detection costs {@code -A_FN};
 *   <li>a detection outside every window costs {@code -A_FP} if no window ended before it, else it
 *       adds {@code A_FP sigma(|R_prev - i| / (R_prev - L_prev))} (negative once it is farther from
 *       the previous window than that window is long).
 * </ul>
 *
 * <p>A window none of whose rows is past the probationary period does not count. Over a corpus,
 * one threshold is chosen for all files by trying every distinct anomaly score and keeping the one
 * with the highest total (ties go to the higher threshold, as NAB's sweep visits thresholds from
 * high to low). The normalised score is {@code 100 (raw - null) / (perfect - null)} with {@code
 * perfect = windows x A_TP} and {@code null = -windows x A_FN}.
 */
public final class NabScorer {

  /** The probationary share of each file. */
  public static final double PROBATION_FRACTION = 0.15;

  /** The probationary period never exceeds this many rows (0.15 x 5000). */
  public static final int PROBATION_CAP = 750;

  private static final int PROBATIONARY = -2;
  private static final int OUTSIDE = -1;

  /** The score of one file at one threshold, with NAB's row counts. */
  public record FileScore(
      String path, double threshold, double score, int tp, int tn, int fp, int fn, int rows) {}

  /** The corpus-wide threshold with the best total, and that total. */
  public record Sweep(double threshold, double rawScore, int windows) {}

  private NabScorer() {}

  /** Rows at the start of a file of {@code rows} rows that are never scored. */
  public static int probationaryLength(int rows) {
    return (int) Math.min(Math.floor(PROBATION_FRACTION * rows), PROBATION_CAP);
  }

  /** NAB's scaled sigmoid. */
  public static double scaledSigmoid(double y) {
    if (y >= 3.0) {
      return -1.0;
    }
    return 2.0 / (1.0 + Math.exp(5.0 * y)) - 1.0;
  }

  /** {@code 100 (raw - null) / (perfect - null)} for a corpus of {@code windows} windows. */
  public static double normalized(double raw, int windows, NabProfile profile) {
    double perfect = windows * profile.tpWeight();
    double nullScore = -windows * profile.fnWeight();
    return 100.0 * (raw - nullScore) / (perfect - nullScore);
  }

  /** Windows of {@code series} that count (have a row past the probationary period). */
  public static int countedWindows(NabSeries series) {
    int probation = probationaryLength(series.size());
    return (int) series.windows().stream().filter(w -> w[1] >= probation).count();
  }

  /** Windows that count, over a corpus. */
  public static int countedWindows(List<NabSeries> corpus) {
    return corpus.stream().mapToInt(NabScorer::countedWindows).sum();
  }

  /** What each row of a file is worth if detected, and which window (if any) it belongs to. */
  private static final class RowWeights {
    final double[] weight;
    final int[] window;

    RowWeights(NabSeries series, NabProfile profile) {
      int n = series.size();
      weight = new double[n];
      window = new int[n];
      Arrays.fill(window, OUTSIDE);
      double maxTp = scaledSigmoid(-1.0);
      List<int[]> windows = series.windows();
      for (int k = 0; k < windows.size(); k++) {
        int[] w = windows.get(k);
        double width = w[1] - w[0] + 1;
        for (int i = w[0]; i <= w[1]; i++) {
          window[i] = k;
          weight[i] = scaledSigmoid(-(w[1] - i + 1) / width) * profile.tpWeight() / maxTp;
        }
      }
      int[] previous = null;
      int next = 0;
      for (int i = 0; i < n; i++) {
        while (next < windows.size() && windows.get(next)[1] < i) {
          previous = windows.get(next++);
        }
        if (window[i] != OUTSIDE) {
          continue;
        }
        double position =
            previous == null ? 3.0 : Math.abs(previous[1] - i) / (double) (previous[1] - previous[0]);
        weight[i] = scaledSigmoid(position) * profile.fpWeight();
      }
      int probation = probationaryLength(n);
      for (int i = 0; i < probation; i++) {
        window[i] = PROBATIONARY;
      }
    }
  }

  /** The score of one file: rows with {@code scores[i] >= threshold} are detections. */
  public static FileScore score(
      NabSeries series, double[] scores, NabProfile profile, double threshold) {
    requireSameLength(series, scores);
    RowWeights rows = new RowWeights(series, profile);
    int windows = series.windows().size();
    double[] best = new double[windows];
    boolean[] counted = new boolean[windows];
    Arrays.fill(best, -profile.fnWeight());
    double fpTotal = 0;
    int tp = 0;
    int tn = 0;
    int fp = 0;
    int fn = 0;
    for (int i = 0; i < series.size(); i++) {
      int w = rows.window[i];
      if (w == PROBATIONARY) {
        continue;
      }
      boolean detected = scores[i] >= threshold;
      if (w == OUTSIDE) {
        if (detected) {
          fp++;
          fpTotal += rows.weight[i];
        } else {
          tn++;
        }
      } else {
        counted[w] = true;
        if (detected) {
          tp++;
          best[w] = Math.max(best[w], rows.weight[i]);
        } else {
          fn++;
        }
      }
    }
    double total = fpTotal;
    for (int w = 0; w < windows; w++) {
      if (counted[w]) {
        total += best[w];
      }
    }
    return new FileScore(series.path(), threshold, total, tp, tn, fp, fn, series.size());
  }

  /**
   * The corpus-wide threshold with the highest total raw score: every distinct anomaly score is
   * tried, from high to low, plus "no detection at all"; ties go to the higher threshold.
   */
  public static Sweep optimize(List<NabSeries> corpus, List<double[]> scores, NabProfile profile) {
    List<RowWeights> weights = new ArrayList<>();
    int rowCount = 0;
    for (int f = 0; f < corpus.size(); f++) {
      requireSameLength(corpus.get(f), scores.get(f));
      weights.add(new RowWeights(corpus.get(f), profile));
      rowCount += corpus.get(f).size();
    }
    int windows = countedWindows(corpus);
    // Each scorable row as (file, row), sorted by anomaly score, highest first.
    long[] order = new long[rowCount];
    int m = 0;
    for (int f = 0; f < corpus.size(); f++) {
      for (int i = 0; i < corpus.get(f).size(); i++) {
        if (weights.get(f).window[i] != PROBATIONARY) {
          order[m++] = ((long) f << 32) | i;
        }
      }
    }
    Long[] sorted = new Long[m];
    for (int k = 0; k < m; k++) {
      sorted[k] = order[k];
    }
    Arrays.sort(
        sorted,
        Comparator.comparingDouble((Long r) -> scores.get((int) (r >>> 32))[(int) (long) r])
            .reversed());
    double[][] best = new double[corpus.size()][];
    for (int f = 0; f < corpus.size(); f++) {
      best[f] = new double[corpus.get(f).windows().size()];
      Arrays.fill(best[f], -profile.fnWeight());
    }
    double total = -windows * profile.fnWeight();
    double bestTotal = total;
    double bestThreshold = Double.POSITIVE_INFINITY;
    int k = 0;
    while (k < m) {
      double threshold = scoreOf(scores, sorted[k]);
      while (k < m && scoreOf(scores, sorted[k]) == threshold) {
        int f = (int) (sorted[k] >>> 32);
        int i = (int) (long) sorted[k];
        RowWeights rows = weights.get(f);
        int w = rows.window[i];
        if (w == OUTSIDE) {
          total += rows.weight[i];
        } else if (rows.weight[i] > best[f][w]) {
          total += rows.weight[i] - best[f][w];
          best[f][w] = rows.weight[i];
        }
        k++;
      }
      if (total > bestTotal) {
        bestTotal = total;
        bestThreshold = threshold;
      }
    }
    return new Sweep(bestThreshold, bestTotal, windows);
  }

  private static double scoreOf(List<double[]> scores, long row) {
    return scores.get((int) (row >>> 32))[(int) row];
  }

  private static void requireSameLength(NabSeries series, double[] scores) {
    if (scores.length != series.size()) {
      throw new IllegalArgumentException(
          series.path() + ": " + scores.length + " scores for " + series.size() + " rows");
    }
  }
}
