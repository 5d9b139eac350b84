package io.vigil.bench;

import io.vigil.functions.ingest.EventEncoders;
import io.vigil.jobs.demo.SensorReadingGenerator;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.schemas.SensorReading;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A benchmark input held in memory: the demo generator's sensor readings 0 .. n-1 (valid ones
 * only: no malformed or late records, so every pipeline's output can be checked against {@link
 * Oracle}), each pre-encoded as Avro single-object bytes. Generating and encoding happen before
 * any measurement, so the source only hands out byte arrays.
 *
 * <p>Devices report every 10 s of event time ({@link SensorReadingGenerator}), so with {@code d}
 * devices event time advances {@code 10 s / d} per record, with up to 3 s of disorder.
 *
 * <p>Datasets are registered under an id for {@link MemorySource}, which runs in this process's
 * MiniCluster and looks them up by id; {@link #close} removes one.
 */
public final class Dataset implements AutoCloseable {

  /** Where the generated event times start. */
  public static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  private static final Map<String, Dataset> REGISTRY = new ConcurrentHashMap<>();
  private static final AtomicInteger IDS = new AtomicInteger();

  private final String id;
  private final int devices;
  private final byte[][] values;
  private final List<SensorReading> readings;
  private final long[] ingestNanos;
  private final AtomicLong pacingEpoch = new AtomicLong();

  private Dataset(int devices, byte[][] values, List<SensorReading> readings, boolean stamped) {
    this.id = "dataset-" + IDS.incrementAndGet();
    this.devices = devices;
    this.values = values;
    this.readings = readings;
    this.ingestNanos = stamped ? new long[values.length] : null;
    REGISTRY.put(id, this);
  }

  /**
   * Readings 0 .. events-1 of {@code devices} devices at 8 sites, seed 42, in generator order.
   *
   * @param stamped whether sources record each record's ingestion time ({@link #ingestNanos})
   */
  public static Dataset generate(int events, int devices, boolean stamped) {
    return generate(events, devices, stamped, false);
  }

  /**
   * Like {@link #generate(int, int, boolean)}; with {@code ordered} the same readings sorted by
   * event time, as a stream whose devices stamp readings when they send them. Each device's own
   * order is unchanged (its readings are 10 s apart, its disorder at most 3 s).
   */
  public static Dataset generate(int events, int devices, boolean stamped, boolean ordered) {
    SensorReadingGenerator generator = new SensorReadingGenerator(settings(devices));
    List<SensorReading> readings = new ArrayList<>(events);
    for (int i = 0; i < events; i++) {
      readings.add(generator.reading(i));
    }
    if (ordered) {
      readings.sort(Comparator.comparing(SensorReading::getEventTime));
    }
    byte[][] values = new byte[events][];
    for (int i = 0; i < events; i++) {
      values[i] = EventEncoders.singleObject(readings.get(i));
    }
    return new Dataset(devices, values, Collections.unmodifiableList(readings), stamped);
  }

  /** The generator settings of a dataset of {@code devices} devices (valid records only). */
  public static CompiledSpec.GeneratorSettings settings(int devices) {
    return new CompiledSpec.GeneratorSettings(devices, 8, 0.0, 0.0, 0, 42, START);
  }

  static Dataset byId(String id) {
    Dataset dataset = REGISTRY.get(id);
    if (dataset == null) {
      throw new IllegalStateException("no dataset " + id + " in this process");
    }
    return dataset;
  }

  public String id() {
    return id;
  }

  public int size() {
    return values.length;
  }

  public int devices() {
    return devices;
  }

  /** The encoded record at {@code index}. */
  public byte[] value(int index) {
    return values[index];
  }

  /** The readings behind the records, in record order: input for oracles. */
  public List<SensorReading> readings() {
    return readings;
  }

  /**
   * The {@code System.nanoTime()} at which a paced run of this dataset started: the first
   * caller's {@code now}, the same for every later caller (readers of one run share it).
   */
  public long pacingEpoch(long now) {
    pacingEpoch.compareAndSet(0, now);
    return pacingEpoch.get();
  }

  /**
   * System.nanoTime() at which a source emitted each record (0 if it has not), or null if the
   * dataset is not stamped.
   */
  public long[] ingestNanos() {
    return ingestNanos;
  }

  @Override
  public void close() {
    REGISTRY.remove(id);
  }
}
