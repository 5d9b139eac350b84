package io.vigil.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Runs a real in-process broker and checks what Vigil relies on: transactions (committed records
 * visible to a read_committed reader, aborted ones not), the transaction timeout ceiling, and a
 * clean close.
 */
class EmbeddedKafkaBrokerITCase {

  private static final int PARTITIONS = 4;
  private static final int RECORDS_PER_BATCH = 200;
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

  @Test
  void readCommittedConsumerSeesCommittedAndPlainRecordsButNotAbortedOnes() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      String topic = "readings";
      broker.createTopic(topic, PARTITIONS);

      List<Sent> committed = new ArrayList<>();
      try (KafkaProducer<String, String> producer = transactionalProducer(broker, "it-txn")) {
        producer.initTransactions();

        producer.beginTransaction();
        committed.addAll(send(producer, topic, "committed-a"));
        producer.commitTransaction();

        producer.beginTransaction();
        List<Sent> aborted = send(producer, topic, "aborted");
        producer.flush();
        producer.abortTransaction();
        assertThat(aborted).hasSize(RECORDS_PER_BATCH);

        producer.beginTransaction();
        committed.addAll(send(producer, topic, "committed-b"));
        producer.commitTransaction();
      }
      try (KafkaProducer<String, String> producer = plainProducer(broker)) {
        committed.addAll(send(producer, topic, "plain"));
      }

      Map<Integer, List<String>> read = readCommitted(broker, topic);

      assertThat(read.values().stream().flatMap(List::stream))
          .containsExactlyInAnyOrderElementsOf(committed.stream().map(Sent::value).toList());
      // Within a partition, Kafka keeps send order; the oracle is where each send was acked.
      Map<Integer, List<String>> expectedByPartition =
          committed.stream()
              .collect(
                  Collectors.groupingBy(
                      Sent::partition, Collectors.mapping(Sent::value, Collectors.toList())));
      assertThat(read).isEqualTo(expectedByPartition);
      assertThat(read).hasSize(PARTITIONS);
    }
  }

  @Test
  void rejectsProducerTransactionTimeoutAboveTheConfiguredMaximum() {
    long maximum = Duration.ofMinutes(2).toMillis();
    try (EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.start(Map.of("transaction.max.timeout.ms", Long.toString(maximum)))) {
      assertThat(broker.transactionMaxTimeoutMs()).isEqualTo(maximum);

      Map<String, Object> tooLong =
          Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) maximum + 1);
      try (KafkaProducer<String, String> producer =
          transactionalProducer(broker, "too-long", tooLong)) {
        // Kafka 4.2 reports the broker's INVALID_TRANSACTION_TIMEOUT as a plain KafkaException.
        assertThatThrownBy(producer::initTransactions)
            .isInstanceOf(KafkaException.class)
            .hasMessageContaining("transaction timeout is larger than the maximum");
      }

      Map<String, Object> withinLimit =
          Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) maximum);
      try (KafkaProducer<String, String> producer =
          transactionalProducer(broker, "within-limit", withinLimit)) {
        producer.initTransactions();
      }
    }
  }

  @Test
  void defaultTransactionMaximumIsKafkasFifteenMinutes() {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      assertThat(broker.transactionMaxTimeoutMs()).isEqualTo(Duration.ofMinutes(15).toMillis());
    }
  }

  @Test
  void createTopicAcceptsAnExistingTopicOnlyWithTheSamePartitionCount() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
      broker.createTopic("twice", 3);
      broker.createTopic("twice", 3);

      assertThatThrownBy(() -> broker.createTopic("twice", 5))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("has 3 partitions, wanted 5");
      try (Admin admin =
          Admin.create(
              Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
        assertThat(
                admin
                    .describeTopics(List.of("twice"))
                    .allTopicNames()
                    .get()
                    .get("twice")
                    .partitions())
            .hasSize(3);
      }
    }
  }

  @Test
  void closeDeletesTheLogDirectoryAndFreesThePort() throws IOException {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start();
    Path directory = broker.directory();
    int port = Integer.parseInt(broker.bootstrapServers().split(":")[1]);
    assertThat(directory).isDirectory();
    assertThat(isBindable(port)).isFalse();

    broker.close();
    broker.close();

    assertThat(Files.exists(directory)).isFalse();
    assertThat(isBindable(port)).isTrue();
  }

  private record Sent(String value, int partition) {}

  private static List<Sent> send(KafkaProducer<String, String> producer, String topic, String tag)
      throws InterruptedException, ExecutionException {
    List<String> values =
        IntStream.range(0, RECORDS_PER_BATCH).mapToObj(i -> tag + "-" + i).toList();
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      acks.add(producer.send(new ProducerRecord<>(topic, "device-" + (i % 13), values.get(i))));
    }
    List<Sent> sent = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      sent.add(new Sent(values.get(i), acks.get(i).get().partition()));
    }
    return sent;
  }

  /** Everything a read_committed reader sees up to the last stable offset, by partition. */
  private static Map<Integer, List<String>> readCommitted(
      EmbeddedKafkaBroker broker, String topic) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<Integer, List<String>> read = new HashMap<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions =
          IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(topic, p)).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        assertThat(System.nanoTime()).as("read up to the end offsets in time").isLessThan(deadline);
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          read.computeIfAbsent(record.partition(), p -> new ArrayList<>()).add(record.value());
        }
      }
    }
    return read;
  }

  private static KafkaProducer<String, String> transactionalProducer(
      EmbeddedKafkaBroker broker, String id) {
    return transactionalProducer(broker, id, Map.of());
  }

  private static KafkaProducer<String, String> transactionalProducer(
      EmbeddedKafkaBroker broker, String id, Map<String, Object> extra) {
    Map<String, Object> config = new HashMap<>(extra);
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id + "-" + UUID.randomUUID());
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
    return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
  }

  private static KafkaProducer<String, String> plainProducer(EmbeddedKafkaBroker broker) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
  }

  private static boolean isBindable(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
