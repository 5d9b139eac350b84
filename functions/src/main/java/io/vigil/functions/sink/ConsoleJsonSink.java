package io.vigil.functions.sink;

import java.io.PrintStream;
import org.apache.avro.generic.IndexedRecord;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Prints each record as one line of plain JSON ({@link AvroJson}) to standard output, prefixed with
 * a label such as {@code aggregate>}. For local runs and demos; no delivery guarantee.
 */
public final class ConsoleJsonSink<T extends IndexedRecord> implements Sink<T> {

  private static final long serialVersionUID = 1L;

  private final String label;

  public ConsoleJsonSink(String label) {
    this.label = label;
  }

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) {
    PrintStream out = System.out;
    return new SinkWriter<>() {
      @Override
      public void write(T element, Context ctx) {
        out.println(label + "> " + AvroJson.toJson(element));
      }

      @Override
      public void flush(boolean endOfInput) {
        out.flush();
      }

      @Override
      public void close() {}
    };
  }
}
