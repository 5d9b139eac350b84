package io.vigil.functions.sink;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.IndexedRecord;
import org.apache.flink.api.common.serialization.Encoder;

/** Writes each Avro record as one line of plain JSON ({@link AvroJson}), for Flink's FileSink. */
public final class JsonLinesEncoder<T extends IndexedRecord> implements Encoder<T> {

  private static final long serialVersionUID = 1L;

  @Override
  public void encode(T element, OutputStream stream) throws IOException {
    stream.write(AvroJson.toJson(element).getBytes(StandardCharsets.UTF_8));
    stream.write('\n');
  }
}
