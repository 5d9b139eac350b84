package io.vigil.jobs.verify;

import io.vigil.functions.ingest.EventEncoders;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.SensorReading;
import java.time.Instant;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Writes the sequence-numbered input of a reliability run: event i belongs to key {@code dev-(i
 * mod keys)} and is that key's number {@code i / keys + 1}, so every key emits 1, 2, 3, ... with
 * id {@code dev-K#SEQ}; its temperature is its sequence number and its event time is {@code
 * start + i * 1000 / rate} ms minus up to {@code disorder} ms (bounded disorder). At the end each
 * key gets one closing record ({@code dev-K#close}) a minute later, which moves every partition's
 * watermark past the last window. The producer is idempotent and retries for up to 10 minutes, so a
 * broker that goes away and comes back loses and duplicates nothing.
 */
@Command(name = "produce", description = "Write sequence-numbered sensor readings at a fixed rate.")
final class SequenceProducer implements Callable<Integer> {

  static final String CLOSE = "close";

  @Option(names = "--bootstrap-servers", required = true)
  String bootstrapServers;

  @Option(names = "--topic", required = true)
  String topic;

  @Option(names = "--keys", defaultValue = "40")
  int keys;

  @Option(names = "--rate", defaultValue = "300", description = "Events per second.")
  int rate;

  @Option(names = "--seconds", defaultValue = "90")
  int seconds;

  @Option(names = "--disorder-ms", defaultValue = "2000")
  long disorderMs;

  @Option(names = "--seed", defaultValue = "1")
  long seed;

  @Option(names = "--start", defaultValue = "2026-03-01T00:00:00Z", description = "Event time of the first event.")
  Instant start;

  @Override
  public Integer call() throws Exception {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "600000");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "600000");
    Random random = new Random(seed);
    long total = (long) rate * seconds;
    long began = System.nanoTime();
    long lastTime = start.toEpochMilli();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      for (long i = 0; i < total; i++) {
        long time = start.toEpochMilli() + i * 1000 / rate - (long) (random.nextDouble() * disorderMs);
        lastTime = Math.max(lastTime, time);
        send(producer, (int) (i % keys), Long.toString(i / keys + 1), time, i / keys + 1);
        long due = began + i * 1_000_000_000L / rate;
        long ahead = due - System.nanoTime();
        if (ahead > 1_000_000) {
          Thread.sleep(ahead / 1_000_000);
        }
      }
      for (int k = 0; k < keys; k++) {
        send(producer, k, CLOSE, lastTime + 60_000, 0);
      }
      producer.flush();
    }
    System.out.printf("Wrote %,d sequence-numbered events and %d closing records to %s in %.1f s%n",
        total, keys, topic, (System.nanoTime() - began) / 1e9);
    return 0;
  }

  private void send(KafkaProducer<String, byte[]> producer, int key, String seq, long time, double temperature) {
    String device = "dev-" + key;
    SensorReading reading =
        SensorReading.newBuilder()
            .setEventId(device + "#" + seq)
            .setDeviceId(device)
            .setSite("site-" + (key % 4))
            .setEventTime(Instant.ofEpochMilli(time))
            .setTemperature(temperature)
            .setHumidity(50)
            .setBattery(80)
            .setStatus(DeviceStatus.OK)
            .setFirmware("1.0")
            .build();
    producer.send(new ProducerRecord<>(topic, device, EventEncoders.singleObject(reading)));
  }
}
