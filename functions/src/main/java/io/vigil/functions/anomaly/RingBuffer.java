package io.vigil.functions.anomaly;

import java.util.Arrays;

/**
 * A fixed-capacity window of the most recent doubles, as a Flink POJO (state of the detectors).
 * Keeps running sums so that the mean and variance of the window cost O(1).
 */
public class RingBuffer {

  /** The slots; {@code values.length} is the capacity. */
  public double[] values;

  /** Slot the next value goes to. */
  public int next;

  /** How many slots hold values (at most the capacity). */
  public int count;

  /** Sum of the held values. */
  public double sum;

  /** Sum of the squares of the held values. */
  public double sumOfSquares;

  /** For Flink's POJO serializer. */
  public RingBuffer() {}

  public RingBuffer(int capacity) {
    this.values = new double[capacity];
  }

  /** Appends {@code value}, evicting the oldest value when full. */
  public void add(double value) {
    if (count == values.length) {
      double old = values[next];
      sum -= old;
      sumOfSquares -= old * old;
    } else {
      count++;
    }
    values[next] = value;
    sum += value;
    sumOfSquares += value * value;
    next = (next + 1) % values.length;
  }

  public boolean isFull() {
    return count == values.length;
  }

  public double mean() {
    return count == 0 ? 0.0 : sum / count;
  }

  /** Population variance, never negative (running sums can drift slightly below zero). */
  public double variance() {
    if (count == 0) {
      return 0.0;
    }
    double m = sum / count;
    return Math.max(0.0, sumOfSquares / count - m * m);
  }

  /** The held values in ascending order (a copy). */
  public double[] sorted() {
    // Slots fill from 0 upwards until the buffer is full, so the first count slots are the values.
    double[] copy = Arrays.copyOf(values, count);
    Arrays.sort(copy);
    return copy;
  }

  /** The value added {@code back} steps ago (0 = the latest); requires {@code back < count}. */
  public double recent(int back) {
    int i = Math.floorMod(next - 1 - back, values.length);
    return values[i];
  }

  /** Serialized size bound: the slots plus the scalar fields. */
  static long bytes(int capacity) {
    return 8L * capacity + 64;
  }
}
