package io.vigil.functions.window;

import io.vigil.functions.window.MetricSpec.AggregateKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;

/**
 * The running state of one {@link MetricSpec} in one window: a Flink POJO (public fields of POJO
 * types only, so Flink serializes it without Kryo).
 *
 * <p>{@code n} counts the non-null values seen. SUM and AVG use {@code sum}; MIN and MAX use {@code
 * min} and {@code max}; STDDEV uses Welford's running {@code mean} and {@code m2} (sum of squared
 * differences from the mean), merged with Chan et al.'s formula for sessions. DISTINCT and QUANTILE
 * keep a serialized DataSketches sketch in {@code sketch} (HLL_8, lgK {@value MetricSpec#HLL_LG_K};
 * KLL doubles, k {@value MetricSpec#KLL_K}); null until the first flush.
 *
 * <p>Sketch updates are buffered: the newest {@code pending} values wait in {@code pendingValues}
 * (QUANTILE) or {@code pendingItems} (DISTINCT, the UTF-8 bytes of the string form, or the bytes
 * themselves) and are applied to the sketch in arrival order once {@value #PENDING_CAPACITY} have
 * gathered, or when the window is read or merged. Applying the same values in the same order makes
 * the sketch what per-event updates would have made it, while heapifying and serializing it once per
 * {@value #PENDING_CAPACITY} events instead of once per event.
 */
public class MetricAccumulator {

  /** The most sketch updates buffered before they are applied to the sketch. */
  static final int PENDING_CAPACITY = 64;

  private static final int FIRST_PENDING_CAPACITY = 8;

  public long n;
  public double sum;
  public double min;
  public double max;
  public double mean;
  public double m2;
  public byte[] sketch;
  public int pending;
  public double[] pendingValues;
  public byte[][] pendingItems;

  public MetricAccumulator() {}

  /**
   * Adds one non-null value of the metric's field: a {@link Number} for numeric metrics, anything
   * for DISTINCT (by its string form; bytes by their content). Not for COUNT, which is the window's
   * event count.
   */
  public void add(MetricSpec spec, Object value) {
    switch (spec.kind()) {
      case COUNT -> throw new IllegalArgumentException("COUNT reads no field values");
      case DISTINCT -> addDistinct(value);
      case QUANTILE -> addQuantile(((Number) value).doubleValue());
      case SUM, MIN, MAX, AVG, STDDEV -> addNumber(((Number) value).doubleValue());
    }
  }

  private void addNumber(double x) {
    n++;
    sum += x;
    min = n == 1 ? x : Math.min(min, x);
    max = n == 1 ? x : Math.max(max, x);
    double delta = x - mean;
    mean += delta / n;
    m2 += delta * (x - mean);
  }

  private void addDistinct(Object value) {
    // HllSketch hashes a string as its UTF-8 bytes, so buffering the bytes changes no estimate.
    byte[] item;
    if (value instanceof ByteBuffer bytes) {
      item = new byte[bytes.remaining()];
      bytes.duplicate().get(item);
    } else {
      item = value.toString().getBytes(StandardCharsets.UTF_8);
    }
    if (pendingItems == null) {
      pendingItems = new byte[FIRST_PENDING_CAPACITY][];
    } else if (pending == pendingItems.length) {
      pendingItems = Arrays.copyOf(pendingItems, pending * 2);
    }
    pendingItems[pending++] = item;
    n++;
    if (pending == PENDING_CAPACITY) {
      storeDistinct(distinctSketch());
    }
  }

  private void addQuantile(double x) {
    if (pendingValues == null) {
      pendingValues = new double[FIRST_PENDING_CAPACITY];
    } else if (pending == pendingValues.length) {
      pendingValues = Arrays.copyOf(pendingValues, pending * 2);
    }
    pendingValues[pending++] = x;
    n++;
    if (pending == PENDING_CAPACITY) {
      storeQuantile(quantileSketch());
    }
  }

  /** The stored HLL sketch with the pending items applied; this accumulator is unchanged. */
  private HllSketch distinctSketch() {
    HllSketch hll =
        sketch == null
            ? new HllSketch(MetricSpec.HLL_LG_K, TgtHllType.HLL_8)
            : HllSketch.heapify(sketch);
    for (int i = 0; i < pending; i++) {
      hll.update(pendingItems[i]);
    }
    return hll;
  }

  /** The stored KLL sketch with the pending values applied; this accumulator is unchanged. */
  private KllDoublesSketch quantileSketch() {
    KllDoublesSketch kll =
        sketch == null
            ? KllDoublesSketch.newHeapInstance(MetricSpec.KLL_K)
            : KllDoublesSketch.heapify(Memory.wrap(sketch));
    for (int i = 0; i < pending; i++) {
      kll.update(pendingValues[i]);
    }
    return kll;
  }

  private void storeDistinct(HllSketch hll) {
    sketch = hll.toCompactByteArray();
    clearPending();
  }

  private void storeQuantile(KllDoublesSketch kll) {
    sketch = kll.toByteArray();
    clearPending();
  }

  private void clearPending() {
    pending = 0;
    pendingValues = null;
    pendingItems = null;
  }

  /** Folds {@code other} (the same metric over a disjoint set of events) into this one. */
  public void merge(MetricSpec spec, MetricAccumulator other) {
    if (other.n == 0) {
      return;
    }
    if (n == 0) {
      copyFrom(other);
      return;
    }
    switch (spec.kind()) {
      case DISTINCT -> {
        Union union = new Union(MetricSpec.HLL_LG_K);
        union.update(distinctSketch());
        union.update(other.distinctSketch());
        storeDistinct(union.getResult(TgtHllType.HLL_8));
        n += other.n;
      }
      case QUANTILE -> {
        KllDoublesSketch kll = quantileSketch();
        kll.merge(other.quantileSketch());
        storeQuantile(kll);
        n += other.n;
      }
      default -> {
        long total = n + other.n;
        double delta = other.mean - mean;
        m2 += other.m2 + delta * delta * ((double) n * other.n / total);
        mean += delta * other.n / total;
        sum += other.sum;
        min = Math.min(min, other.min);
        max = Math.max(max, other.max);
        n = total;
      }
    }
  }

  private void copyFrom(MetricAccumulator other) {
    n = other.n;
    sum = other.sum;
    min = other.min;
    max = other.max;
    mean = other.mean;
    m2 = other.m2;
    sketch = other.sketch == null ? null : other.sketch.clone();
    pending = other.pending;
    pendingValues = other.pendingValues == null ? null : other.pendingValues.clone();
    pendingItems = other.pendingItems == null ? null : other.pendingItems.clone();
  }

  /**
   * The metric's value: null when no non-null value was seen, except COUNT (the window's {@code
   * eventCount}) and DISTINCT (0).
   */
  public Double result(MetricSpec spec, long eventCount) {
    AggregateKind kind = spec.kind();
    if (kind == AggregateKind.COUNT) {
      return (double) eventCount;
    }
    if (n == 0) {
      return kind == AggregateKind.DISTINCT ? 0.0 : null;
    }
    return switch (kind) {
      case SUM -> sum;
      case MIN -> min;
      case MAX -> max;
      case AVG -> sum / n;
      case STDDEV -> Math.sqrt(Math.max(0.0, m2 / n));
      case DISTINCT -> distinctSketch().getEstimate();
      case QUANTILE ->
          quantileSketch().getQuantile(spec.quantile(), QuantileSearchCriteria.INCLUSIVE);
      default -> throw new IllegalStateException("unhandled metric kind " + kind);
    };
  }
}
