package io.vigil.jobs.demo;

import io.vigil.functions.event.Envelopes;
import io.vigil.functions.ingest.DecodeSettings;
import io.vigil.functions.ingest.EventDecoder;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.schemas.SourceRef;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;

/**
 * The demo source: {@link SensorReadingGenerator}'s records, decoded and validated exactly as the
 * Kafka source decodes them, so a run without Kafka exercises the same dead-letter paths.
 */
public final class DemoSource {

  /** The topic name dead letters from the generator carry in their source coordinates. */
  public static final String TOPIC = "generator";

  private DemoSource() {}

  /** A bounded source of {@code maxEvents} envelopes (use {@code Long.MAX_VALUE} for "forever"). */
  public static DataGeneratorSource<GenericRecord> create(CompiledSpec spec, long maxEvents) {
    long rate = spec.generator().eventsPerSecond();
    return new DataGeneratorSource<>(
        new Decoding(new SensorReadingGenerator(spec.generator()), spec.decode()),
        maxEvents,
        rate > 0 ? RateLimiterStrategy.perSecond(rate) : RateLimiterStrategy.noOp(),
        Envelopes.typeInfo(spec.eventSchema()));
  }

  private static final class Decoding implements GeneratorFunction<Long, GenericRecord> {
    private static final long serialVersionUID = 1L;

    private final SensorReadingGenerator generator;
    private final EventDecoder decoder;

    Decoding(SensorReadingGenerator generator, DecodeSettings settings) {
      this.generator = generator;
      this.decoder = new EventDecoder(settings);
    }

    @Override
    public GenericRecord map(Long index) {
      SensorReadingGenerator.Generated g = generator.generate(index);
      return decoder.decode(new SourceRef(TOPIC, 0, index, g.eventTime()), g.value());
    }
  }
}
