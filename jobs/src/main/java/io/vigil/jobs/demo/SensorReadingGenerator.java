package io.vigil.jobs.demo;

import io.vigil.functions.ingest.EventEncoders;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.EventTypes;
import io.vigil.schemas.SensorReading;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * Realistic IoT telemetry for demos: a fleet of devices at a few sites, each reporting every 10
 * seconds of event time, with daily temperature cycles, draining batteries, a few seconds of
 * network disorder, and a configurable share of late and malformed records.
 *
 * <p>Two patterns for the rules to find: every device numbered 7 modulo 40 overheats once an hour
 * (from minute 30 of each event-time hour its temperature climbs steadily by {@link
 * #OVERHEAT_RISE} degrees over {@link #OVERHEAT_MS}, well past 80 °C, then drops back), and device
 * {@link #SILENT_DEVICE} loses its network for {@link #OUTAGE_MS} every two hours (from minute 10):
 * it buffers its readings and delivers them {@link #LATENESS_MS} late, too late for the windows
 * and the rules, so they become late-event dead letters and the device looks silent.
 *
 * <p>Record {@code i} is a pure function of {@code (seed, i)}, so a run is reproducible at any
 * parallelism and a test can regenerate exactly what a job read.
 */
public final class SensorReadingGenerator implements Serializable {

  private static final long serialVersionUID = 1L;

  /** How often each device reports, in event time. */
  public static final long REPORT_INTERVAL_MS = 10_000;
  /** The most a regular reading arrives out of order. Keep below the demo spec's watermark bound. */
  public static final long MAX_DISORDER_MS = 3_000;
  /** How far behind a late reading is: beyond the demo spec's windows plus allowed lateness. */
  public static final long LATENESS_MS = 15 * 60_000;

  /** Size of the firmware string of an oversized record. */
  public static final int OVERSIZED_BYTES = 100_000;

  private static final long DAY_MS = 24 * 3600_000L;
  private static final long HOUR_MS = 3600_000L;

  /** Where in each event-time hour an overheating device starts to climb. */
  public static final long OVERHEAT_START_MS = 30 * 60_000;
  /** How long it climbs. */
  public static final long OVERHEAT_MS = 5 * 60_000;
  /** How far it climbs, in degrees. */
  public static final double OVERHEAT_RISE = 75;
  /** The device that goes offline every two hours. */
  public static final int SILENT_DEVICE = 3;
  /** Where in every two hours of event time its outage starts. */
  public static final long OUTAGE_START_MS = 10 * 60_000;
  /** How long its outage lasts: longer than the 10 minutes of the shipped iot.device-silent rule. */
  public static final long OUTAGE_MS = 15 * 60_000;

  /** What record {@code i} is. */
  public enum Kind {
    GOOD,
    LATE,
    RANDOM_BYTES,
    TRUNCATED_AVRO,
    UNKNOWN_FINGERPRINT,
    JSON_WRONG_TYPE,
    JSON_MISSING_KEY,
    NAN_TEMPERATURE,
    ANCIENT_EVENT_TIME,
    EMPTY,
    OVERSIZED
  }

  /** One generated record: Kafka key, value bytes, and what it is. */
  public record Generated(long index, String key, byte[] value, Kind kind, long eventTime) {}

  private final CompiledSpec.GeneratorSettings settings;

  public SensorReadingGenerator(CompiledSpec.GeneratorSettings settings) {
    this.settings = settings;
  }

  public Generated generate(long i) {
    SplittableRandom random = random(i);
    SensorReading reading = reading(i, random);
    String deviceId = reading.getDeviceId();
    long eventTime = reading.getEventTime().toEpochMilli();

    double draw = random.nextDouble();
    if (draw < settings.malformedShare()) {
      Kind kind = Kind.values()[2 + random.nextInt(Kind.values().length - 2)];
      return new Generated(i, deviceId, malformed(kind, reading, random), kind, eventTime);
    }
    if (draw < settings.malformedShare() + settings.lateShare() || inOutage(device(i), eventTime)) {
      reading.setEventTime(Instant.ofEpochMilli(eventTime - LATENESS_MS));
      return new Generated(i, deviceId, encode(reading, random), Kind.LATE, eventTime - LATENESS_MS);
    }
    return new Generated(i, deviceId, encode(reading, random), Kind.GOOD, eventTime);
  }

  /** The reading behind record {@code i}, before it is made late or malformed: an oracle for tests. */
  public SensorReading reading(long i) {
    return reading(i, random(i));
  }

  private SplittableRandom random(long i) {
    return new SplittableRandom(settings.seed() * 0x9E3779B97F4A7C15L + i);
  }

  /** Whether {@code device} climbs towards overheating at {@code eventTime}; the climb so far in degrees. */
  public static double overheating(int device, long eventTime) {
    long into = Math.floorMod(eventTime, HOUR_MS) - OVERHEAT_START_MS;
    if (device % 40 != 7 || into < 0 || into >= OVERHEAT_MS) {
      return 0;
    }
    return OVERHEAT_RISE * into / OVERHEAT_MS;
  }

  /** Whether {@code device} is offline (delivering late) at {@code eventTime}. */
  public static boolean inOutage(int device, long eventTime) {
    long into = Math.floorMod(eventTime, 2 * HOUR_MS) - OUTAGE_START_MS;
    return device == SILENT_DEVICE && into >= 0 && into < OUTAGE_MS;
  }

  /** The device number of record {@code i}. */
  public int device(long i) {
    return (int) (i % settings.devices());
  }

  private SensorReading reading(long i, SplittableRandom random) {
    int device = device(i);
    String deviceId = deviceId(device);
    long nominal = settings.startTime().toEpochMilli() + i * REPORT_INTERVAL_MS / settings.devices();
    long eventTime = nominal - random.nextLong(MAX_DISORDER_MS);
    int site = device % settings.sites();
    double phase = 2 * Math.PI * ((eventTime % DAY_MS) / (double) DAY_MS) + device * 0.1;
    boolean fault = random.nextDouble() < 0.001;
    // A faulty reading spikes: what the demo's anomaly detector should flag.
    double temperature =
        18 + site * 0.8 + 4 * Math.sin(phase) + gaussian(random) * 0.4 + (fault ? 15 : 0) + overheating(device, eventTime);
    double humidity = Math.max(0, Math.min(100, 45 - 10 * Math.sin(phase) + gaussian(random) * 2));
    double battery = Math.max(3, 100 - (i / settings.devices()) * 0.002 - (device % 7));
    DeviceStatus status = fault ? DeviceStatus.FAULT : temperature > 24 ? DeviceStatus.WARN : DeviceStatus.OK;
    return SensorReading.newBuilder()
        .setEventId("e-" + i)
        .setDeviceId(deviceId)
        .setSite(site < 10 ? "site-0" + site : "site-" + site)
        .setEventTime(Instant.ofEpochMilli(eventTime))
        .setTemperature(Math.round(temperature * 100) / 100.0)
        .setHumidity(Math.round(humidity * 10) / 10.0)
        .setBattery(Math.round(battery * 10) / 10.0)
        .setStatus(status)
        .setFirmware(device % 5 == 0 ? "2.1.0" : "2.2.3")
        .build();
  }

  /** Most readings are single-object Avro; some come as JSON, as the older v1 schema, or plain Avro binary. */
  private static byte[] encode(SensorReading reading, SplittableRandom random) {
    double format = random.nextDouble();
    if (format < 0.08) {
      return EventEncoders.json(generic(reading));
    }
    if (format < 0.15) {
      return EventEncoders.singleObject(asV1(reading));
    }
    if (format < 0.20) {
      return EventEncoders.avroBinary(reading);
    }
    return EventEncoders.singleObject(reading);
  }

  private static byte[] malformed(Kind kind, SensorReading reading, SplittableRandom random) {
    return switch (kind) {
      case RANDOM_BYTES -> {
        byte[] bytes = new byte[8 + random.nextInt(64)];
        for (int b = 0; b < bytes.length; b++) {
          bytes[b] = (byte) random.nextInt(256);
        }
        // Random bytes that happen to look like JSON or single-object Avro would test the wrong thing.
        bytes[0] = (byte) 0x80;
        yield bytes;
      }
      case TRUNCATED_AVRO -> {
        byte[] whole = EventEncoders.singleObject(reading);
        yield Arrays.copyOf(whole, whole.length / 2);
      }
      case UNKNOWN_FINGERPRINT -> {
        byte[] bytes = EventEncoders.singleObject(reading);
        ByteBuffer.wrap(bytes, 2, 8).putLong(0x5EEDBADC0FFEEL);
        yield bytes;
      }
      case JSON_WRONG_TYPE -> json(reading).replaceFirst("\"temperature\":[-0-9.E]+", "\"temperature\":\"hot\"")
          .getBytes(StandardCharsets.UTF_8);
      case JSON_MISSING_KEY -> json(reading).replaceFirst("\"deviceId\":\"[^\"]*\",?", "")
          .getBytes(StandardCharsets.UTF_8);
      case NAN_TEMPERATURE -> {
        reading.setTemperature(Double.NaN);
        yield EventEncoders.singleObject(reading);
      }
      case ANCIENT_EVENT_TIME -> {
        reading.setEventTime(Instant.ofEpochMilli(86_400_000L));
        yield EventEncoders.singleObject(reading);
      }
      case EMPTY -> new byte[0];
      case OVERSIZED -> {
        // Beyond the demo spec's 64 kb limit (input.validation.maxRecordSize).
        GenericRecord record = generic(reading);
        record.put("firmware", "x".repeat(OVERSIZED_BYTES));
        yield EventEncoders.json(record);
      }
      case GOOD, LATE -> throw new IllegalArgumentException(kind + " is not malformed");
    };
  }

  private static String json(SensorReading reading) {
    return new String(EventEncoders.json(generic(reading)), StandardCharsets.UTF_8);
  }

  private static GenericRecord generic(SensorReading reading) {
    return toGeneric(reading, SensorReading.getClassSchema());
  }

  private static GenericRecord asV1(SensorReading reading) {
    return toGeneric(reading, EventTypes.find("SensorReading").orElseThrow().history().get(0));
  }

  /** The reading as a generic record of {@code schema} (the current one or an older version). */
  private static GenericRecord toGeneric(SensorReading reading, Schema schema) {
    GenericRecord record = new GenericData.Record(schema);
    for (Schema.Field field : schema.getFields()) {
      Object value = reading.get(field.name());
      if (value instanceof Instant instant) {
        value = instant.toEpochMilli();
      } else if (value instanceof DeviceStatus status) {
        value = new GenericData.EnumSymbol(field.schema(), status.name());
      }
      record.put(field.name(), value);
    }
    return record;
  }

  /** {@code dev-0042}: zero-padded to four digits, so ids sort by number. */
  private static String deviceId(int device) {
    String digits = Integer.toString(device);
    return "dev-" + "0000".substring(Math.min(4, digits.length())) + digits;
  }

  /** A standard normal draw (Box-Muller), from this record's own random stream. */
  private static double gaussian(SplittableRandom random) {
    double u = 1 - random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
  }
}
