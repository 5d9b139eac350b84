package io.vigil.cep.engine;

import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.api.java.typeutils.PojoField;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;

/**
 * One partial match of a {@link SequenceMatcher} rule for one key: the events it has taken so far,
 * one per stage from the first. With as many events as the rule has stages it is a completed
 * match that the after-match skip strategy still holds back.
 *
 * <p>A Flink POJO (public fields, a no-argument constructor) whose type information {@link
 * #typeInfo} builds explicitly, so the envelopes are serialized with Avro and nothing falls back to
 * Kryo.
 */
public final class PartialMatch {

  /** The event time of the first event. */
  public long startTime;

  /**
   * For each event, its place among the events of its timestamp in arrival order: with the event
   * time, the order Flink CEP's event ids have, which decides match order and skip pruning.
   */
  public int[] places;

  /** The envelopes taken, stage by stage. */
  public List<GenericRecord> events;

  public PartialMatch() {}

  PartialMatch(long startTime, int[] places, List<GenericRecord> events) {
    this.startTime = startTime;
    this.places = places;
    this.events = events;
  }

  /** The type information of a key's partial matches, with {@code envelope} for the events. */
  static TypeInformation<List<PartialMatch>> listTypeInfo(TypeInformation<GenericRecord> envelope) {
    try {
      PojoTypeInfo<PartialMatch> pojo =
          new PojoTypeInfo<>(
              PartialMatch.class,
              List.of(
                  new PojoField(PartialMatch.class.getField("startTime"), Types.LONG),
                  new PojoField(PartialMatch.class.getField("places"), PrimitiveArrayTypeInfo.INT_PRIMITIVE_ARRAY_TYPE_INFO),
                  new PojoField(PartialMatch.class.getField("events"), new ListTypeInfo<>(envelope))));
      return new ListTypeInfo<>(pojo);
    } catch (NoSuchFieldException e) {
      throw new IllegalStateException("PartialMatch lost a field", e);
    }
  }

  /** The number of stages matched so far. */
  int stages() {
    return events.size();
  }

  /** Whether this match's first event comes after the event at {@code time} and {@code place}. */
  boolean startsAfter(long time, int place) {
    return startTime > time || (startTime == time && places[0] > place);
  }
}
