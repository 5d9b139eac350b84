package io.vigil.jobs.testing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Expected window results computed the slow, obvious way from a list of events: the independent
 * oracle the integration tests compare Vigil's aggregates against. Shares no code with
 * {@code io.vigil.functions.window}.
 */
public final class WindowOracle {

  /** A test event: group key, event time, and the values the tests aggregate. */
  public record Event(String id, String group, long time, double value, String tag) {}

  /** One expected window: every event that belongs in it. */
  public record Window(String group, long start, long end, List<Event> events) {
    public long count() {
      return events.size();
    }

    public double sum() {
      return events.stream().mapToDouble(Event::value).sum();
    }

    public double min() {
      return events.stream().mapToDouble(Event::value).min().orElseThrow();
    }

    public double max() {
      return events.stream().mapToDouble(Event::value).max().orElseThrow();
    }

    public double avg() {
      return sum() / count();
    }

    /** Population standard deviation, two-pass. */
    public double stddev() {
      double mean = avg();
      double squares = events.stream().mapToDouble(e -> (e.value() - mean) * (e.value() - mean)).sum();
      return Math.sqrt(squares / count());
    }

    public long distinctTags() {
      Set<String> tags = new HashSet<>();
      events.forEach(e -> tags.add(e.tag()));
      return tags.size();
    }

    public double[] sortedValues() {
      return events.stream().mapToDouble(Event::value).sorted().toArray();
    }
  }

  private WindowOracle() {}

  /** Tumbling or sliding windows (slide == size for tumbling), aligned to epoch 0. */
  public static Map<String, Window> sliding(Collection<Event> events, long size, long slide) {
    Map<String, List<Event>> byWindow = new TreeMap<>();
    for (Event e : events) {
      long lastStart = e.time() - Math.floorMod(e.time(), slide);
      for (long start = lastStart; start > e.time() - size; start -= slide) {
        byWindow.computeIfAbsent(id(e.group(), start, start + size), k -> new ArrayList<>()).add(e);
      }
    }
    Map<String, Window> windows = new TreeMap<>();
    byWindow.forEach((id, list) -> {
      Event first = list.get(0);
      long start = Long.parseLong(id.split("\\|")[1]);
      windows.put(id, new Window(first.group(), start, start + size, list));
    });
    return windows;
  }

  /** Session windows as Flink merges them: per group, [t, t + gap) windows that overlap or touch form one session. */
  public static Map<String, Window> sessions(Collection<Event> events, long gap) {
    Map<String, List<Event>> byGroup = new TreeMap<>();
    events.forEach(e -> byGroup.computeIfAbsent(e.group(), k -> new ArrayList<>()).add(e));
    Map<String, Window> windows = new TreeMap<>();
    byGroup.forEach((group, list) -> {
      list.sort((a, b) -> Long.compare(a.time(), b.time()));
      List<Event> current = new ArrayList<>();
      long end = Long.MIN_VALUE;
      for (Event e : list) {
        if (!current.isEmpty() && e.time() > end) {
          long start = current.get(0).time();
          windows.put(id(group, start, end), new Window(group, start, end, current));
          current = new ArrayList<>();
        }
        current.add(e);
        end = Math.max(end, e.time() + gap);
      }
      if (!current.isEmpty()) {
        long start = current.get(0).time();
        windows.put(id(group, start, end), new Window(group, start, end, current));
      }
    });
    return windows;
  }

  public static String id(String group, long start, long end) {
    return group + "|" + start + "|" + end;
  }

  /**
   * Whether {@code estimate} is a valid q-quantile of {@code sorted} within a normalized rank error
   * of {@code epsilon}: some rank the estimate can take lies within epsilon * n of q * n.
   */
  public static boolean withinRankError(double[] sorted, double q, double estimate, double epsilon) {
    int below = 0;
    int atOrBelow = 0;
    for (double v : sorted) {
      if (v < estimate) {
        below++;
      }
      if (v <= estimate) {
        atOrBelow++;
      }
    }
    double n = sorted.length;
    double target = q * n;
    double slack = epsilon * n + 1;
    return atOrBelow >= target - slack && below <= target + slack;
  }

  /** Groups events with a function, for oracles that key by something other than Event.group. */
  public static List<Event> regroup(Collection<Event> events, Function<Event, String> group) {
    return events.stream().map(e -> new Event(e.id(), group.apply(e), e.time(), e.value(), e.tag())).toList();
  }
}
