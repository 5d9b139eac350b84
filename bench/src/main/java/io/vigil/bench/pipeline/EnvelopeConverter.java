package io.vigil.bench.pipeline;

import io.vigil.bench.MemorySource;
import io.vigil.functions.ingest.DecodeSettings;
import io.vigil.functions.ingest.EventDecoder;
import io.vigil.schemas.SourceRef;
import org.apache.avro.generic.GenericRecord;

/**
 * Record bytes to a Vigil envelope with Vigil's decoder, as the Kafka source's deserializer does
 * (one {@link SourceRef} per record, the position standing in for the offset).
 */
public final class EnvelopeConverter implements MemorySource.Converter<GenericRecord> {

  private static final long serialVersionUID = 1L;

  /** The topic name in the envelopes' source coordinates. */
  public static final String TOPIC = "bench";

  private final EventDecoder decoder;

  public EnvelopeConverter(DecodeSettings settings) {
    this.decoder = new EventDecoder(settings);
  }

  @Override
  public GenericRecord convert(byte[] value, long position) {
    return decoder.decode(new SourceRef(TOPIC, 0, position, null), value);
  }
}
