package io.vigil.bench.jmh;

import io.vigil.functions.event.Envelopes;
import io.vigil.functions.event.avro.CompiledAvroSerializer;
import io.vigil.schemas.SensorReading;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
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
 * One SensorReading envelope serialised and deserialised, as it crosses a network edge, by Flink's
 * Avro serializer (the baseline) or by Vigil's compiled serializer (what {@link Envelopes#typeInfo}
 * gives). The envelopes are the decoder's, so their values have the Java types the source emits.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class EnvelopeSerdeBenchmark {

  public static final String FLINK_AVRO = "flink-avro";
  public static final String COMPILED = "compiled";

  @Param({FLINK_AVRO, COMPILED})
  public String serializer;

  private TypeSerializer<GenericRecord> typeSerializer;
  private List<GenericRecord> envelopes;
  private final DataOutputSerializer out = new DataOutputSerializer(256);
  private final DataInputDeserializer in = new DataInputDeserializer();
  private int next;

  @Setup
  public void setUp() {
    Schema schema = Envelopes.schema(SensorReading.getClassSchema());
    typeSerializer =
        switch (serializer) {
          case FLINK_AVRO -> new GenericRecordAvroTypeInfo(schema).createSerializer(new SerializerConfigImpl());
          case COMPILED -> new CompiledAvroSerializer(schema);
          default -> throw new IllegalArgumentException("unknown serializer: " + serializer);
        };
    envelopes = Inputs.envelopes(Inputs.CYCLE, 100);
  }

  @Benchmark
  public GenericRecord roundTrip() throws IOException {
    GenericRecord envelope = envelopes.get(next++ & (Inputs.CYCLE - 1));
    out.clear();
    typeSerializer.serialize(envelope, out);
    in.setBuffer(out.getSharedBuffer(), 0, out.length());
    return typeSerializer.deserialize(in);
  }
}
