package io.vigil.jobs.reliability;

import io.vigil.jobs.testing.WindowOracle;
import io.vigil.schemas.WindowAggregate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Committed window aggregates of one {@code deviceId}-grouped aggregation computing {@code count}
 * and {@code sum(temperature)}, compared with the {@link WindowOracle}: which expected windows are
 * missing, which appear more than once, and which have wrong values.
 */
record OutputCheck(Set<String> missing, Set<String> duplicated, List<String> wrong, Set<String> unexpected) {

  static OutputCheck of(List<WindowAggregate> committed, Map<String, WindowOracle.Window> expected) {
    Map<String, Integer> copies = new HashMap<>();
    List<String> wrong = new ArrayList<>();
    Set<String> unexpected = new TreeSet<>();
    for (WindowAggregate a : committed) {
      String id = WindowOracle.id(a.getGroupKey().get("deviceId"), a.getWindowStart(), a.getWindowEnd());
      copies.merge(id, 1, Integer::sum);
      WindowOracle.Window w = expected.get(id);
      if (w == null) {
        unexpected.add(id);
      } else if (a.getRevision() != 0 || a.getCount() != w.count()
          || Math.abs(a.getValues().get("sum_temperature") - w.sum()) > 1e-9 * Math.max(1, Math.abs(w.sum()))) {
        wrong.add(id + ": revision " + a.getRevision() + ", count " + a.getCount() + " (expected " + w.count()
            + "), sum " + a.getValues().get("sum_temperature") + " (expected " + w.sum() + ")");
      }
    }
    Set<String> missing = new TreeSet<>(expected.keySet());
    missing.removeAll(copies.keySet());
    Set<String> duplicated = new TreeSet<>();
    copies.forEach((id, n) -> {
      if (n > 1) {
        duplicated.add(id);
      }
    });
    return new OutputCheck(missing, duplicated, wrong, unexpected);
  }
}
