package io.vigil.functions.anomaly;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;

/**
 * What to score, how, and per which key: the configuration of one {@link AnomalyScorer}.
 *
 * @param name a name for this detector attachment (part of the operator uid; letters, digits,
 *     {@code -})
 * @param fields the numeric fields of the event to watch; each field has its own model per key
 * @param detector a detector name from {@link Detectors#NAMES}
 * @param threshold a score at or above this marks {@code AnomalyScore.anomalous}, in [0, 1]
 * @param groupBy the fields that form the key; empty means the envelope's entity key
 * @param idleTimeout a key that sees no event for this long (event time) loses its models, so
 *     silent keys do not keep state forever; must be positive
 */
public record DetectorSpec(
    String name,
    List<String> fields,
    String detector,
    double threshold,
    List<String> groupBy,
    Duration idleTimeout)
    implements Serializable {

  public DetectorSpec {
    if (name == null || !name.matches("[A-Za-z0-9-]+")) {
      throw new IllegalArgumentException("detector spec name must be letters, digits and '-'");
    }
    if (fields == null || fields.isEmpty()) {
      throw new IllegalArgumentException("detector spec '" + name + "' watches no field");
    }
    Detectors.create(detector);
    if (!(threshold >= 0.0 && threshold <= 1.0)) {
      throw new IllegalArgumentException("threshold must be in [0, 1], got " + threshold);
    }
    if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idleTimeout must be positive");
    }
    fields = List.copyOf(fields);
    groupBy = groupBy == null ? List.of() : List.copyOf(groupBy);
  }

  /** Watches {@code fields} per entity key with {@code detector}, threshold 0.9, idle after 1 day. */
  public static DetectorSpec of(String name, String detector, List<String> fields) {
    return new DetectorSpec(name, fields, detector, 0.9, List.of(), Duration.ofDays(1));
  }
}
