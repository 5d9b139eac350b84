package io.vigil.jobs.testing;

import io.vigil.functions.ingest.EventEncoders;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.SensorReading;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Test input: sensor readings with bounded disorder and a share of late ones, and their Kafka coordinates once sent. */
public final class TestReadings {

  public static final long START = Instant.parse("2026-03-01T00:00:00Z").toEpochMilli();
  /** Far beyond any test window plus allowed lateness. */
  public static final long LATENESS = 20 * 60_000L;

  /** One record as written to Kafka. */
  public record Sent(String key, byte[] value, SensorReading reading, boolean late, int partition, long offset) {
    public Sent at(int partition, long offset) {
      return new Sent(key, value, reading, late, partition, offset);
    }

    public WindowOracle.Event event(String group) {
      return new WindowOracle.Event(
          reading.getEventId(), group, reading.getEventTime().toEpochMilli(), reading.getTemperature(), reading.getDeviceId());
    }
  }

  private TestReadings() {}

  /** Devices below this number go quiet for a while in the middle of the input (see {@link #generate}). */
  public static final int PAUSING_DEVICES = 10;

  /**
   * {@code count} readings from {@code devices} devices at {@code sites} sites; reading i is
   * {@code spacingMs * i} after START, minus up to {@code maxDisorderMs}. The first {@link
   * #PAUSING_DEVICES} devices send nothing during the middle fifth of the input, so their sessions
   * split. In the second half, a share {@code lateShare} of the other devices' readings is LATENESS
   * earlier still: late enough to miss closed windows, yet never bridging a session that already
   * closed (whose fate would depend on how far each partition had been read).
   */
  public static List<Sent> generate(int count, int devices, int sites, long spacingMs, long maxDisorderMs, double lateShare, long seed) {
    Random random = new Random(seed);
    List<Sent> sent = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int device = random.nextInt(devices);
      if (device < PAUSING_DEVICES && i > count * 2 / 5 && i < count * 3 / 5) {
        device = PAUSING_DEVICES + random.nextInt(devices - PAUSING_DEVICES);
      }
      boolean late = i > count / 2 && device >= PAUSING_DEVICES && random.nextDouble() < lateShare;
      long time = START + i * spacingMs - (long) (random.nextDouble() * maxDisorderMs) - (late ? LATENESS : 0);
      SensorReading reading =
          SensorReading.newBuilder()
              .setEventId("t-" + i)
              .setDeviceId("device-" + device)
              .setSite("site-" + (device % sites))
              .setEventTime(Instant.ofEpochMilli(time))
              .setTemperature(Math.round((15 + 10 * random.nextDouble() + device % 5) * 1000) / 1000.0)
              .setHumidity(30 + random.nextInt(40))
              .setBattery(50 + random.nextInt(50))
              .setStatus(DeviceStatus.OK)
              .setFirmware("1.0")
              .build();
      sent.add(new Sent(reading.getDeviceId(), EventEncoders.singleObject(reading), reading, late, -1, -1));
    }
    return sent;
  }

  /** Sends in order, key by key, and returns the records with their partitions and offsets. */
  public static List<Sent> send(String bootstrap, String topic, List<Sent> records) throws ExecutionException, InterruptedException {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.LINGER_MS_CONFIG, "10");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    List<Future<RecordMetadata>> futures = new ArrayList<>(records.size());
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      for (Sent s : records) {
        futures.add(producer.send(new ProducerRecord<>(topic, s.key(), s.value())));
      }
      producer.flush();
    }
    List<Sent> placed = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      RecordMetadata m = futures.get(i).get();
      placed.add(records.get(i).at(m.partition(), m.offset()));
    }
    return placed;
  }
}
