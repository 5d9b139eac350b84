package io.vigil.functions.anomaly;

import java.io.Serializable;
import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * An online anomaly detector for one numeric signal of one key.
 *
 * <p>The detector object itself is immutable configuration, shared by all keys; everything it
 * learns lives in a state object of type {@code S}, which is a Flink POJO (public no-argument
 * constructor, public fields of primitive, primitive-array or POJO types) so that it is kept in
 * Flink keyed state with Flink's own serializer, never Kryo. The state has a fixed upper size
 * ({@link #maxStateBytes()}), whatever the length of the series.
 *
 * <p>Strictly online: {@link #update} scores a value from the state built by the earlier values
 * only, then folds the value into the state. Calling it with the same values in the same order
 * gives the same scores, also after the state went through a checkpoint and a restore.
 *
 * @param <S> the model state of one key
 */
public interface AnomalyDetector<S> extends Serializable {

  /** The name in specs, CLI options and {@code AnomalyScore.detector}. */
  String name();

  /** Flink type information of the state (a POJO type). */
  TypeInformation<S> stateType();

  /** The state of a key that has seen nothing yet. */
  S newState();

  /**
   * Scores {@code value} (observed at {@code eventTime}, epoch millis) against {@code state}, then
   * learns it. {@code value} is finite.
   */
  DetectorResult update(S state, long eventTime, double value);

  /** An upper bound of the serialized state size of one key, in bytes. */
  long maxStateBytes();
}
