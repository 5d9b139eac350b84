package io.vigil.bench;

import io.vigil.schemas.SensorReading;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What every pipeline of the benchmark must output for a {@link Dataset}, computed in plain Java
 * from the readings, independently of Flink and of Vigil: the number of windows of each
 * aggregation of {@code bench-spec.yaml}, of scores, and of matches of {@code
 * temperature-spike.yaml}. A run whose output counts differ measured something else.
 */
public record Oracle(long deviceWindows, long siteWindows, long scores, long alerts) {

  private static final long MINUTE = 60_000;
  private static final long WITHIN = 5 * MINUTE;

  /** Both aggregations' windows together (Vigil writes them to one output). */
  public long windows() {
    return deviceWindows + siteWindows;
  }

  /** The bench rule's step: a spike is a reading at least this much above the one before. */
  public static final double SPIKE_STEP = 10.0;

  public static Oracle of(List<SensorReading> readings) {
    return of(readings, SPIKE_STEP);
  }

  /** Like {@link #of(List)}, for the bench rule with a spike of {@code step} degrees. */
  public static Oracle of(List<SensorReading> readings, double step) {
    Set<String> device = new HashSet<>();
    Set<String> site = new HashSet<>();
    Map<String, List<SensorReading>> byDevice = new HashMap<>();
    for (SensorReading r : readings) {
      long t = r.getEventTime().toEpochMilli();
      long minute = Math.floorDiv(t, MINUTE) * MINUTE;
      device.add(r.getDeviceId() + "/" + minute);
      for (int k = 0; k < 5; k++) {
        site.add(r.getSite() + "/" + (minute - k * MINUTE));
      }
      byDevice.computeIfAbsent(r.getDeviceId(), d -> new ArrayList<>()).add(r);
    }
    long alerts = 0;
    for (List<SensorReading> series : byDevice.values()) {
      alerts += spikes(series, step);
    }
    return new Oracle(device.size(), site.size(), readings.size(), alerts);
  }

  /**
   * Matches of "a reading, then the very next one at least {@code step} degrees higher, within 5
   * minutes", skipping past the last event of each match, in event-time order (stable for ties, as
   * CEP processes ties in arrival order).
   */
  static long spikes(List<SensorReading> series, double step) {
    List<SensorReading> sorted = new ArrayList<>(series);
    sorted.sort(Comparator.comparing(SensorReading::getEventTime));
    long matches = 0;
    for (int i = 0; i + 1 < sorted.size(); i++) {
      SensorReading before = sorted.get(i);
      SensorReading spike = sorted.get(i + 1);
      long dt = spike.getEventTime().toEpochMilli() - before.getEventTime().toEpochMilli();
      if (spike.getTemperature() >= before.getTemperature() + step && dt < WITHIN) {
        matches++;
        i++;
      }
    }
    return matches;
  }
}
