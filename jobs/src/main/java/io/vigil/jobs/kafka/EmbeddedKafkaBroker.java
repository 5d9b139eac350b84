package io.vigil.jobs.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka (KRaft broker and controller in one node) running inside this JVM, on
 * loopback ports picked at start, with its log in a temporary directory.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #start()} formats fresh storage with Kafka's own {@link StorageTool}, starts a
 *       {@link KafkaRaftServer} and returns once the broker answers an admin request.
 *   <li>The broker is configured for one node (replication factors 1, {@code
 *       transaction.state.log.min.isr=1}), rebalances at once ({@code
 *       group.initial.rebalance.delay.ms=0}) and never deletes data by age ({@code
 *       log.retention.ms=-1}): Flink's KafkaSink stamps records with their event time, and old
 *       event times would otherwise let retention delete fresh output within seconds.
 *   <li>{@link #transactionMaxTimeoutMs()} is the broker's {@code transaction.max.timeout.ms} (15
 *       minutes unless overridden); an exactly-once sink must use a smaller {@code
 *       transaction.timeout.ms}.
 *   <li>{@link #close()} shuts the broker down, waits for it, and deletes its directory; it frees
 *       both ports. It may be called more than once.
 * </ul>
 *
 * <p>Used by the CLI's {@code --embedded-kafka} demo mode and by the Kafka integration tests.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

  /** Default broker-side ceiling for producer transaction timeouts: Kafka's own default. */
  public static final long DEFAULT_TRANSACTION_MAX_TIMEOUT_MS = Duration.ofMinutes(15).toMillis();

  private static final String LOOPBACK = "127.0.0.1";
  private static final int NODE_ID = 1;
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private final KafkaRaftServer server;
  private final Path directory;
  private final String bootstrapServers;
  private final long transactionMaxTimeoutMs;
  private boolean closed;

  private EmbeddedKafkaBroker(
      KafkaRaftServer server, Path directory, String bootstrapServers, long txnMaxTimeoutMs) {
    this.server = server;
    this.directory = directory;
    this.bootstrapServers = bootstrapServers;
    this.transactionMaxTimeoutMs = txnMaxTimeoutMs;
  }

  /** Starts a broker with the default settings described on the class. */
  public static EmbeddedKafkaBroker start() {
    return start(Map.of());
  }

  /**
   * Starts a broker whose configuration is the defaults described on the class with {@code
   * overrides} applied on top (any Kafka broker property, e.g. {@code transaction.max.timeout.ms}).
   * Listener, node and directory settings are owned by this class and cannot be overridden.
   */
  public static EmbeddedKafkaBroker start(Map<String, String> overrides) {
    Path directory;
    try {
      directory = Files.createTempDirectory("vigil-kafka-");
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a Kafka directory", e);
    }
    try {
      int[] ports = freePorts(2);
      int brokerPort = ports[0];
      int controllerPort = ports[1];
      Properties props =
          brokerProperties(directory.resolve("data"), brokerPort, controllerPort, overrides);
      format(props, directory.resolve("server.properties"));

      KafkaRaftServer server =
          new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
      EmbeddedKafkaBroker broker =
          new EmbeddedKafkaBroker(
              server,
              directory,
              LOOPBACK + ":" + brokerPort,
              Long.parseLong(props.getProperty("transaction.max.timeout.ms")));
      try {
        server.startup();
        broker.awaitReady();
      } catch (RuntimeException e) {
        broker.close();
        throw e;
      }
      return broker;
    } catch (RuntimeException e) {
      deleteRecursively(directory);
      throw e;
    }
  }

  /** {@code host:port} of the broker's PLAINTEXT listener, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The broker's {@code transaction.max.timeout.ms}. */
  public long transactionMaxTimeoutMs() {
    return transactionMaxTimeoutMs;
  }

  /**
   * Creates a topic with replication factor 1 and waits until every partition has a leader, so
   * producers and consumers can use it at once. A topic that already exists with the same partition
   * count is accepted; one with another count is an error.
   */
  public void createTopic(String name, int partitions) {
    try (Admin admin = admin()) {
      try {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException("Cannot create topic " + name, e.getCause());
        }
      }
      awaitLeaders(admin, name, partitions);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while creating topic " + name, e);
    }
  }

  /** Stops the broker, waits until it has stopped and deletes its log directory. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      server.shutdown();
      server.awaitShutdown();
    } finally {
      deleteRecursively(directory);
    }
  }

  /** The temporary directory holding the broker's data; gone after {@link #close()}. */
  public Path directory() {
    return directory;
  }

  private Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            (int) READY_TIMEOUT.toMillis()));
  }

  private void awaitReady() {
    try (Admin admin = admin()) {
      admin.describeCluster().nodes().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for the Kafka broker", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("Kafka broker did not become ready", e.getCause());
    }
  }

  private static void awaitLeaders(Admin admin, String topic, int partitions)
      throws InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    String lastProblem = "not described yet";
    while (System.nanoTime() < deadline) {
      try {
        KafkaFuture<TopicDescription> future =
            admin.describeTopics(Set.of(topic)).topicNameValues().get(topic);
        TopicDescription description = future.get();
        int count = description.partitions().size();
        if (count != partitions) {
          throw new IllegalStateException(
              "Topic " + topic + " has " + count + " partitions, wanted " + partitions);
        }
        boolean allLed =
            description.partitions().stream()
                .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
        if (allLed) {
          return;
        }
        lastProblem = "some partitions have no leader";
      } catch (ExecutionException e) {
        // Metadata propagates asynchronously: right after creation, describe may not know
        // the topic yet.
        lastProblem = String.valueOf(e.getCause());
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("Topic " + topic + " not ready in time: " + lastProblem);
  }

  private static Properties brokerProperties(
      Path logDir, int brokerPort, int controllerPort, Map<String, String> overrides) {
    Properties props = new Properties();
    props.setProperty("log.retention.ms", "-1");
    props.setProperty("offsets.topic.replication.factor", "1");
    props.setProperty("offsets.topic.num.partitions", "1");
    props.setProperty("transaction.state.log.replication.factor", "1");
    props.setProperty("transaction.state.log.min.isr", "1");
    props.setProperty("transaction.state.log.num.partitions", "1");
    props.setProperty("share.coordinator.state.topic.replication.factor", "1");
    props.setProperty("share.coordinator.state.topic.min.isr", "1");
    props.setProperty("default.replication.factor", "1");
    props.setProperty("min.insync.replicas", "1");
    props.setProperty("group.initial.rebalance.delay.ms", "0");
    props.setProperty(
        "transaction.max.timeout.ms", Long.toString(DEFAULT_TRANSACTION_MAX_TIMEOUT_MS));
    props.setProperty("auto.create.topics.enable", "false");
    props.putAll(overrides);

    props.setProperty("process.roles", "broker,controller");
    props.setProperty("node.id", Integer.toString(NODE_ID));
    props.setProperty("controller.quorum.voters", NODE_ID + "@" + LOOPBACK + ":" + controllerPort);
    props.setProperty(
        "listeners",
        "PLAINTEXT://"
            + LOOPBACK
            + ":"
            + brokerPort
            + ",CONTROLLER://"
            + LOOPBACK
            + ":"
            + controllerPort);
    props.setProperty("advertised.listeners", "PLAINTEXT://" + LOOPBACK + ":" + brokerPort);
    props.setProperty("controller.listener.names", "CONTROLLER");
    props.setProperty("inter.broker.listener.name", "PLAINTEXT");
    props.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    props.setProperty("log.dirs", logDir.toString());
    return props;
  }

  /**
   * Writes meta.properties and the bootstrap metadata with {@code kafka-storage.sh format}'s own
   * code, from a copy of the broker properties saved as {@code propertiesFile}.
   */
  private static void format(Properties props, Path propertiesFile) {
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    int exitCode;
    try (PrintStream printStream = new PrintStream(output, true, StandardCharsets.UTF_8)) {
      try (Writer writer = Files.newBufferedWriter(propertiesFile, StandardCharsets.UTF_8)) {
        props.store(writer, "Vigil embedded Kafka broker");
      }
      String[] args = {
        "format", "-t", Uuid.randomUuid().toString(), "-c", propertiesFile.toString()
      };
      exitCode = StorageTool.execute(args, printStream);
    } catch (Exception e) {
      throw new IllegalStateException(
          "Cannot format Kafka storage: " + output.toString(StandardCharsets.UTF_8), e);
    }
    if (exitCode != 0) {
      throw new IllegalStateException(
          "Formatting Kafka storage failed with exit code "
              + exitCode
              + ": "
              + output.toString(StandardCharsets.UTF_8));
    }
  }

  /**
   * Distinct free loopback ports. The sockets are held open together so the OS cannot hand out the
   * same port twice; another process could still take one before the broker binds it, which on a
   * test machine is rare enough to accept.
   */
  private static int[] freePorts(int count) {
    ServerSocket[] sockets = new ServerSocket[count];
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        sockets[i] = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK));
        ports[i] = sockets[i].getLocalPort();
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("No free loopback port", e);
    } finally {
      for (ServerSocket socket : sockets) {
        closeQuietly(socket);
      }
    }
  }

  private static void closeQuietly(ServerSocket socket) {
    if (socket == null) {
      return;
    }
    try {
      socket.close();
    } catch (IOException e) {
      // Nothing bound to release: the port is free either way.
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              path -> {
                try {
                  Files.deleteIfExists(path);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot delete " + dir, e);
    }
  }
}
