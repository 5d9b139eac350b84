package io.vigil.jobs.nab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The HTML report of a NAB run: a summary table (normalised score and threshold per profile) and,
 * per series, an inline SVG plot of the values (blue), the labelled windows (shaded), the anomaly
 * scores (grey, lower band) and the detections at the standard profile's threshold (red marks).
 * Self-contained: no scripts, no external resources.
 */
public final class NabReport {

  private static final int WIDTH = 1100;
  private static final int VALUE_HEIGHT = 120;
  private static final int SCORE_HEIGHT = 40;
  private static final int MAX_POINTS = 1500;

  /** One profile's outcome for the summary. */
  public record ProfileResult(NabProfile profile, NabScorer.Sweep sweep) {
    double normalized() {
      return NabScorer.normalized(sweep.rawScore(), sweep.windows(), profile);
    }
  }

  private NabReport() {}

  /** Writes the report to {@code file}; {@code detectionThreshold} marks detections. */
  public static void write(
      Path file,
      String detector,
      List<NabSeries> corpus,
      List<double[]> scores,
      List<ProfileResult> results,
      double detectionThreshold,
      NabProfile plotProfile) {
    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>NAB: ")
        .append(detector)
        .append("</title><style>")
        .append("body{font-family:sans-serif;margin:20px;color:#222}")
        .append("table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 10px;")
        .append("text-align:right}th{background:#eee}h2{font-size:15px;margin:18px 0 4px}")
        .append(".meta{font-size:12px;color:#555}")
        .append("</style></head><body>");
    html.append("<h1>NAB benchmark: ").append(detector).append("</h1>");
    html.append("<p>")
        .append(corpus.size())
        .append(" series, ")
        .append(NabScorer.countedWindows(corpus))
        .append(" anomaly windows. One threshold per profile for the whole corpus.</p>");
    html.append("<table><tr><th>profile</th><th>normalised score</th><th>raw score</th>")
        .append("<th>threshold</th></tr>");
    for (ProfileResult r : results) {
      html.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%s</td><td>%.2f</td><td>%.3f</td><td>%.6f</td></tr>",
              r.profile().name(),
              r.normalized(),
              r.sweep().rawScore(),
              r.sweep().threshold()));
    }
    html.append("</table>");
    html.append("<p class=\"meta\">Plots: values (blue), labelled windows (shaded), anomaly score")
        .append(" (grey, 0 to 1, below), detections at the ")
        .append(plotProfile.name())
        .append(" threshold (red).</p>");
    for (int f = 0; f < corpus.size(); f++) {
      NabSeries series = corpus.get(f);
      NabScorer.FileScore fileScore =
          NabScorer.score(series, scores.get(f), plotProfile, detectionThreshold);
      html.append("<h2>")
          .append(escape(series.path()))
          .append(
              String.format(
                  Locale.ROOT,
                  " <span class=\"meta\">%d rows, %d windows, %s raw score %.3f, %d detections in"
                      + " windows, %d outside</span>",
                  series.size(),
                  series.windows().size(),
                  plotProfile.name(),
                  fileScore.score(),
                  fileScore.tp(),
                  fileScore.fp()))
          .append("</h2>");
      html.append(plot(series, scores.get(f), detectionThreshold));
    }
    html.append("</body></html>\n");
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, html);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String plot(NabSeries series, double[] scores, double threshold) {
    int n = series.size();
    int height = VALUE_HEIGHT + SCORE_HEIGHT + 10;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">",
            WIDTH,
            height));
    svg.append(
        String.format(
            Locale.ROOT,
            "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>",
            WIDTH,
            height));
    for (int[] w : series.windows()) {
      double x1 = x(w[0], n);
      double x2 = x(w[1], n);
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%d\" fill=\"#f6d27a\""
                  + " fill-opacity=\"0.5\"/>",
              x1,
              Math.max(1.0, x2 - x1),
              height));
    }
    int probation = NabScorer.probationaryLength(n);
    svg.append(
        String.format(
            Locale.ROOT,
            "<rect x=\"0\" y=\"0\" width=\"%.1f\" height=\"%d\" fill=\"#999\" fill-opacity=\"0.12\"/>",
            x(probation, n),
            height));
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double v : series.values()) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    double span = max > min ? max - min : 1.0;
    int step = Math.max(1, n / MAX_POINTS);
    StringBuilder values = new StringBuilder();
    StringBuilder scoreLine = new StringBuilder();
    for (int i = 0; i < n; i += step) {
      // Keep the extreme value of each bucket so spikes survive the downsampling.
      int pick = i;
      double bucketScore = scores[i];
      for (int j = i; j < Math.min(n, i + step); j++) {
        if (Math.abs(series.values()[j] - (min + max) / 2) > Math.abs(series.values()[pick] - (min + max) / 2)) {
          pick = j;
        }
        bucketScore = Math.max(bucketScore, scores[j]);
      }
      double y = 5 + (VALUE_HEIGHT - 10) * (1 - (series.values()[pick] - min) / span);
      values.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(i, n), y));
      double ys = VALUE_HEIGHT + 5 + SCORE_HEIGHT * (1 - Math.min(1, Math.max(0, bucketScore)));
      scoreLine.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(i, n), ys));
    }
    svg.append("<polyline fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"1\" points=\"")
        .append(values)
        .append("\"/>");
    svg.append("<polyline fill=\"none\" stroke=\"#777\" stroke-width=\"1\" points=\"")
        .append(scoreLine)
        .append("\"/>");
    for (int i = probation; i < n; i++) {
      if (scores[i] >= threshold) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%d\" stroke=\"#d00\""
                    + " stroke-width=\"1.5\"/>",
                x(i, n),
                x(i, n),
                height));
      }
    }
    svg.append("</svg>");
    return svg.toString();
  }

  private static double x(int row, int rows) {
    return 2 + (WIDTH - 4) * (double) row / Math.max(1, rows - 1);
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
