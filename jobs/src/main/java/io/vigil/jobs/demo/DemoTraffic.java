package io.vigil.jobs.demo;

import io.vigil.jobs.spec.CompiledSpec;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Writes {@link SensorReadingGenerator} records to a Kafka topic, keyed by device: demo input for a Kafka spec. */
public final class DemoTraffic {

  private DemoTraffic() {}

  /** Sends records 0 .. events-1 and waits until the broker has them all. */
  public static void produce(String bootstrapServers, String topic, CompiledSpec.GeneratorSettings settings, long events) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    // Room for the generator's oversized records, which the job must see to dead-letter them.
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(4 << 20));
    SensorReadingGenerator generator = new SensorReadingGenerator(settings);
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      for (long i = 0; i < events; i++) {
        SensorReadingGenerator.Generated g = generator.generate(i);
        producer.send(new ProducerRecord<>(topic, g.key(), g.value()));
      }
      producer.flush();
    }
  }
}
