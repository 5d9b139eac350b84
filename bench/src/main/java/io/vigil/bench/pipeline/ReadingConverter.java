package io.vigil.bench.pipeline;

import io.vigil.bench.MemorySource;
import io.vigil.functions.event.Envelopes;
import io.vigil.functions.ingest.DecodeSettings;
import org.apache.avro.generic.GenericRecord;

/**
 * Record bytes to a {@link Reading}: Vigil's decoder and validation (the same work as every other
 * row), then the fields the hand-written job needs copied into its own type.
 */
public final class ReadingConverter implements MemorySource.Converter<Reading> {

  private static final long serialVersionUID = 1L;

  private final EnvelopeConverter decoder;

  public ReadingConverter(DecodeSettings settings) {
    this.decoder = new EnvelopeConverter(settings);
  }

  @Override
  public Reading convert(byte[] value, long position) {
    return fromEnvelope(decoder.convert(value, position), position);
  }

  /** The fields of a decoded envelope that the hand-written job needs; {@code position} identifies the record in its input. */
  public static Reading fromEnvelope(GenericRecord envelope, long position) {
    Reading reading = new Reading();
    reading.position = position;
    if (Envelopes.isFailed(envelope)) {
      reading.failure = envelope.get(Envelopes.FAILURE_REASON).toString();
      reading.eventTime = Long.MIN_VALUE;
      return reading;
    }
    GenericRecord event = Envelopes.event(envelope);
    reading.eventId = event.get("eventId").toString();
    reading.deviceId = Envelopes.key(envelope);
    reading.site = event.get("site").toString();
    reading.eventTime = Envelopes.eventTime(envelope);
    reading.temperature = ((Number) event.get("temperature")).doubleValue();
    return reading;
  }
}
