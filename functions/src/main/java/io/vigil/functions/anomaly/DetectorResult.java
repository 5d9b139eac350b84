package io.vigil.functions.anomaly;

/**
 * What a detector says about one value.
 *
 * @param score anomaly score in [0, 1]; higher is more anomalous
 * @param expected the value the model expected, or null when it cannot tell yet
 * @param lower lower edge of the normal band, or null
 * @param upper upper edge of the normal band, or null
 * @param warmUp true while the model has not seen enough values to be trusted
 * @param explanation a short reason, e.g. {@code "4.8 sigma above the recent median"}
 */
public record DetectorResult(
    double score, Double expected, Double lower, Double upper, boolean warmUp, String explanation) {

  /** A warm-up result: score 0, no expectation. */
  public static DetectorResult warmingUp(int seen, int needed) {
    return new DetectorResult(
        0.0, null, null, null, true, "warming up (" + seen + " of " + needed + " values)");
  }
}
