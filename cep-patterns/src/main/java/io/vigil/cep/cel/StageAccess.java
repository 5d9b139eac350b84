package io.vigil.cep.cel;

import org.apache.avro.generic.GenericRecord;

/**
 * How a {@link FastCondition} reads the earlier stages of a partial match, without copying them:
 * {@code events} gives a stage's elements in match order and {@code event} unwraps one element to
 * the event the condition reads (a Flink context's envelopes, or plain events in tests). Both must
 * be side-effect free; a condition may iterate a stage more than once.
 *
 * @param <C> the partial match, passed through unchanged
 */
public interface StageAccess<C> {

  Iterable<? extends GenericRecord> events(C context, String stage) throws Exception;

  GenericRecord event(GenericRecord element);
}
