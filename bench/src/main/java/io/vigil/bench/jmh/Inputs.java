package io.vigil.bench.jmh;

import io.vigil.bench.Dataset;
import io.vigil.functions.event.Envelopes;
import io.vigil.functions.ingest.DecodeSettings;
import io.vigil.functions.ingest.EventDecoder;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;

/** Inputs shared by the micro-benchmarks: the harness's readings, decoded once. */
final class Inputs {

  /** Readings in a benchmark's cycle: enough to defeat caching of one record, few enough to stay in cache. */
  static final int CYCLE = 1024;

  private Inputs() {}

  static DecodeSettings decodeSettings() {
    return DecodeSettings.defaults("SensorReading", "deviceId", "eventTime");
  }

  /** {@code count} readings of {@code devices} devices, as the generator makes them. */
  static List<SensorReading> readings(int count, int devices) {
    try (Dataset dataset = Dataset.generate(count, devices, false)) {
      return dataset.readings();
    }
  }

  /** {@code count} valid envelopes of {@code devices} devices, decoded by Vigil's decoder. */
  static List<GenericRecord> envelopes(int count, int devices) {
    List<GenericRecord> out = new ArrayList<>(count);
    try (Dataset dataset = Dataset.generate(count, devices, false)) {
      EventDecoder decoder = new EventDecoder(decodeSettings());
      for (int i = 0; i < count; i++) {
        GenericRecord envelope = decoder.decode(new SourceRef("jmh", 0, (long) i, null), dataset.value(i));
        if (Envelopes.isFailed(envelope)) {
          throw new IllegalStateException("reading " + i + " does not decode");
        }
        out.add(envelope);
      }
    }
    return out;
  }
}
