package io.vigil.bench.jmh;

import io.vigil.functions.event.Envelopes;
import io.vigil.functions.ingest.EventDecoder;
import io.vigil.functions.ingest.EventEncoders;
import io.vigil.functions.ingest.WireFormat;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.Schema;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decode + validate of one SensorReading record by Vigil's {@link EventDecoder}, per wire format
 * (the decoder configured for that format, as a spec with {@code input.format} set would). The
 * result is the envelope the source emits; the throughput table's limit row adds Flink around it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class DecodeBenchmark {

  @Param({"AVRO_SINGLE_OBJECT", "AVRO_BINARY", "JSON"})
  public String format;

  private EventDecoder decoder;
  private byte[][] records;
  private int next;

  @Setup
  public void setUp() {
    WireFormat wire = WireFormat.valueOf(format);
    decoder = new EventDecoder(Inputs.decodeSettings().withFormat(wire));
    List<SensorReading> readings = Inputs.readings(Inputs.CYCLE, 100);
    records = new byte[readings.size()][];
    for (int i = 0; i < records.length; i++) {
      SensorReading r = readings.get(i);
      records[i] = switch (wire) {
        case AVRO_SINGLE_OBJECT -> EventEncoders.singleObject(r);
        case AVRO_BINARY -> EventEncoders.avroBinary(r);
        case JSON -> EventEncoders.json(generic(r));
        case AUTO -> throw new IllegalArgumentException("not a wire format: " + wire);
      };
      if (Envelopes.isFailed(decoder.decode(new SourceRef("jmh", 0, (long) i, null), records[i]))) {
        throw new IllegalStateException(format + " record " + i + " does not decode");
      }
    }
  }

  @Benchmark
  public GenericRecord decode() {
    int i = next++ & (Inputs.CYCLE - 1);
    return decoder.decode(new SourceRef("jmh", 0, (long) i, null), records[i]);
  }

  /** The reading as a generic record (what the JSON encoder writes), enums as symbols. */
  private static GenericRecord generic(SensorReading r) {
    Schema schema = r.getSchema();
    GenericRecord g = new GenericData.Record(schema);
    for (Schema.Field f : schema.getFields()) {
      Object v = r.get(f.pos());
      if (v instanceof java.time.Instant instant) {
        v = instant.toEpochMilli();
      } else if (v instanceof Enum<?> e) {
        v = new GenericData.EnumSymbol(f.schema(), e.name());
      }
      g.put(f.pos(), v);
    }
    return g;
  }
}
