package io.vigil.functions.anomaly;

import java.util.Locale;
import org.apache.commons.math3.special.Erf;

/** Shared arithmetic of the detectors: deviation-to-score maps and explanations. */
final class Scores {

  private Scores() {}

  /**
   * Maps a deviation of {@code z} standard deviations to [0, 1): {@code z^2 / (z^2 + 9)}, so 3
   * sigma scores 0.5, 6 sigma 0.8 and 9 sigma 0.9. It never saturates, so very large deviations
   * remain ordered.
   */
  static double fromSigma(double z) {
    double z2 = z * z;
    if (Double.isInfinite(z2)) {
      return 1.0;
    }
    return z2 / (z2 + 9.0);
  }

  /**
   * {@code "4.8 sigma above the <baseline>"} (or below), with one decimal rounded half up. Built
   * without {@code String.format}, which costs more than a detector's whole update (it runs for
   * every scored value).
   */
  static String sigmaText(double z, String baseline) {
    double magnitude = Math.abs(z);
    String direction = z >= 0 ? " sigma above the " : " sigma below the ";
    if (!(magnitude < 1e15)) {
      return String.format(Locale.ROOT, "%.1f", magnitude) + direction + baseline;
    }
    long tenths = Math.round(magnitude * 10);
    return (tenths / 10) + "." + (tenths % 10) + direction + baseline;
  }

  /** The standard normal's upper tail probability P(Z > z). */
  static double normalTail(double z) {
    return 0.5 * Erf.erfc(z / Math.sqrt(2.0));
  }
}
