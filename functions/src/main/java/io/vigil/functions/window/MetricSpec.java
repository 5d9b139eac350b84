package io.vigil.functions.window;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.datasketches.kll.KllSketch;

/**
 * One metric of an {@link AggregationSpec}: what to compute over a window, from which event field,
 * and under which output name.
 *
 * <p>Numeric kinds ({@link AggregateKind#SUM SUM}, {@link AggregateKind#MIN MIN}, {@link
 * AggregateKind#MAX MAX}, {@link AggregateKind#AVG AVG}, {@link AggregateKind#STDDEV STDDEV},
 * {@link AggregateKind#QUANTILE QUANTILE}) read an int, long, float or double field (possibly
 * nullable); {@link AggregateKind#DISTINCT DISTINCT} reads any field by its string form. A null
 * field value is skipped by that metric only; {@link AggregateKind#COUNT COUNT} counts every event.
 *
 * <p>Results: SUM, MIN, MAX, AVG and STDDEV are null when the window has no non-null value. STDDEV
 * is the <em>population</em> standard deviation (divides by n, 0 for a single value), computed with
 * Welford's algorithm. DISTINCT is an estimate from an Apache DataSketches HLL sketch with lgK =
 * {@value #HLL_LG_K}: relative standard error about {@link #DISTINCT_RELATIVE_ERROR} (1.6%) at one
 * sigma, near-exact for small counts, 0 when there is no value. QUANTILE is an estimate from a DataSketches {@code
 * KllDoublesSketch} with k = {@value #KLL_K}: the returned value's normalized rank is within {@link
 * #QUANTILE_RANK_ERROR} (about 1.3%; 1.65% for PMF-style queries) of the requested quantile with
 * 99% confidence; it is null when the window has no non-null value.
 *
 * <p>Instances are immutable and serializable.
 */
public final class MetricSpec implements Serializable {

  private static final long serialVersionUID = 1L;

  /** The function a metric computes. */
  public enum AggregateKind {
    COUNT,
    SUM,
    MIN,
    MAX,
    AVG,
    STDDEV,
    DISTINCT,
    QUANTILE
  }

  /** log2 of the number of HLL buckets used by DISTINCT. */
  public static final int HLL_LG_K = 12;

  /**
   * Relative standard error (one sigma) of DISTINCT estimates: 1.04 / sqrt(2^{@value #HLL_LG_K}),
   * about 1.6%. Three times this bounds an estimate with about 99.7% confidence.
   */
  public static final double DISTINCT_RELATIVE_ERROR = 1.04 / Math.sqrt(1 << HLL_LG_K);

  /** The KLL sketch parameter used by QUANTILE. */
  public static final int KLL_K = 200;

  /**
   * Normalized rank error of one QUANTILE estimate at 99% confidence, about 0.0133 for k = {@value
   * #KLL_K}: the true normalized rank of the returned value differs from the requested quantile by
   * at most this. (The 1.65% usually quoted for k = 200 is {@link #KLL_PMF_RANK_ERROR}, the
   * double-sided bound for PMF and CDF queries; it also holds, more loosely, for quantiles.)
   */
  public static final double QUANTILE_RANK_ERROR = KllSketch.getNormalizedRankError(KLL_K, false);

  /** Double-sided normalized rank error of KLL at k = {@value #KLL_K}, about 0.0165. */
  public static final double KLL_PMF_RANK_ERROR = KllSketch.getNormalizedRankError(KLL_K, true);

  private static final String FIELD = "([A-Za-z_][A-Za-z0-9_]*)";
  private static final Pattern COUNT_PATTERN =
      Pattern.compile("count\\s*(\\(\\s*\\))?", Pattern.CASE_INSENSITIVE);
  private static final Pattern FUNCTION_PATTERN =
      Pattern.compile(
          "(sum|min|max|avg|stddev|distinct)\\s*\\(\\s*" + FIELD + "\\s*\\)",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern PERCENTILE_PATTERN =
      Pattern.compile(
          "p(\\d{1,3}(?:[._]\\d+)?)\\s*\\(\\s*" + FIELD + "\\s*\\)", Pattern.CASE_INSENSITIVE);
  private static final Pattern QUANTILE_PATTERN =
      Pattern.compile(
          "quantile\\s*\\(\\s*" + FIELD + "\\s*,\\s*([0-9]*\\.?[0-9]+)\\s*\\)",
          Pattern.CASE_INSENSITIVE);

  private final AggregateKind kind;
  private final String field;
  private final double quantile;
  private final String outputName;

  private MetricSpec(AggregateKind kind, String field, double quantile, String outputName) {
    this.kind = kind;
    this.field = field;
    this.quantile = quantile;
    this.outputName = outputName;
  }

  /** The number of events in the window; output name {@code count}. */
  public static MetricSpec count() {
    return new MetricSpec(AggregateKind.COUNT, null, Double.NaN, "count");
  }

  /**
   * A metric of any kind but QUANTILE (use {@link #quantile}) over {@code field}; output name
   * {@code <kind>_<field>}, for example {@code avg_temperature}.
   */
  public static MetricSpec of(AggregateKind kind, String field) {
    Objects.requireNonNull(kind, "kind");
    if (kind == AggregateKind.COUNT) {
      return count();
    }
    if (kind == AggregateKind.QUANTILE) {
      throw new IllegalArgumentException("QUANTILE needs a quantile: use MetricSpec.quantile");
    }
    requireField(field, kind);
    return new MetricSpec(
        kind, field, Double.NaN, kind.name().toLowerCase(Locale.ROOT) + "_" + field);
  }

  /**
   * The {@code q} quantile of {@code field}, {@code 0 <= q <= 1}; output name {@code
   * p<percent>_<field>} with any fractional percent digits after an underscore: 0.95 gives {@code
   * p95_x}, 0.5 gives {@code p50_x}, 0.999 gives {@code p99_9_x}.
   */
  public static MetricSpec quantile(String field, double q) {
    requireField(field, AggregateKind.QUANTILE);
    if (!(q >= 0.0 && q <= 1.0)) {
      throw new IllegalArgumentException("quantile must be between 0 and 1, got " + q);
    }
    String percent =
        BigDecimal.valueOf(q)
            .movePointRight(2)
            .stripTrailingZeros()
            .toPlainString()
            .replace('.', '_');
    return new MetricSpec(AggregateKind.QUANTILE, field, q, "p" + percent + "_" + field);
  }

  /** This metric under another output name. */
  public MetricSpec named(String newOutputName) {
    if (newOutputName == null || newOutputName.isBlank()) {
      throw new IllegalArgumentException("output name must not be blank");
    }
    return new MetricSpec(kind, field, quantile, newOutputName);
  }

  /**
   * Parses the spec language's shorthand: {@code count}, {@code sum(x)}, {@code min(x)}, {@code
   * max(x)}, {@code avg(x)}, {@code stddev(x)}, {@code distinct(x)}, {@code p95(x)} (any percentile
   * {@code pNN}, {@code pNN_N} or {@code pNN.N} from 0 to 100) and {@code quantile(x, 0.95)}.
   * Function names are case-insensitive; the output name is the default for the metric.
   *
   * @throws IllegalArgumentException naming the problem, for anything else
   */
  public static MetricSpec parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("metric must not be blank");
    }
    String s = text.strip();
    if (COUNT_PATTERN.matcher(s).matches()) {
      return count();
    }
    Matcher m = FUNCTION_PATTERN.matcher(s);
    if (m.matches()) {
      return of(AggregateKind.valueOf(m.group(1).toUpperCase(Locale.ROOT)), m.group(2));
    }
    m = PERCENTILE_PATTERN.matcher(s);
    if (m.matches()) {
      BigDecimal percent = new BigDecimal(m.group(1).replace('_', '.'));
      if (percent.compareTo(BigDecimal.valueOf(100)) > 0) {
        throw new IllegalArgumentException(
            "percentile in metric '" + s + "' must be between 0 and 100");
      }
      return quantile(m.group(2), percent.movePointLeft(2).doubleValue());
    }
    m = QUANTILE_PATTERN.matcher(s);
    if (m.matches()) {
      double q = Double.parseDouble(m.group(2));
      if (q > 1.0) {
        throw new IllegalArgumentException(
            "quantile in metric '" + s + "' must be between 0 and 1");
      }
      return quantile(m.group(1), q);
    }
    throw new IllegalArgumentException(
        "cannot parse metric '"
            + s
            + "': expected count, sum(field), min(field), max(field), avg(field), stddev(field),"
            + " distinct(field), pNN(field) or quantile(field, q)");
  }

  private static void requireField(String field, AggregateKind kind) {
    if (field == null || field.isBlank()) {
      throw new IllegalArgumentException(kind + " needs a field name");
    }
  }

  public AggregateKind kind() {
    return kind;
  }

  /** The event field read; null for COUNT. */
  public String field() {
    return field;
  }

  /** The quantile in [0, 1]; NaN unless QUANTILE. */
  public double quantile() {
    return quantile;
  }

  /** The key of this metric in {@code WindowAggregate.values}. */
  public String outputName() {
    return outputName;
  }

  /** True for the kinds that need a numeric field. */
  public boolean isNumeric() {
    return kind != AggregateKind.COUNT && kind != AggregateKind.DISTINCT;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MetricSpec other
        && kind == other.kind
        && Objects.equals(field, other.field)
        && Double.compare(quantile, other.quantile) == 0
        && outputName.equals(other.outputName);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, field, quantile, outputName);
  }

  @Override
  public String toString() {
    return outputName;
  }
}
