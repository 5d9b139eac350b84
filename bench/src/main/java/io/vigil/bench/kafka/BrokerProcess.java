package io.vigil.bench.kafka;

import io.vigil.jobs.kafka.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node KRaft broker ({@link EmbeddedKafkaBroker}: {@code log.retention.ms=-1},
 * replication factors 1) in a JVM of its own, started from this process's classpath. Its own
 * process, so that the harness's process CPU time is Flink's alone and the broker's can be read
 * separately ({@link #cpuNanos}, from the operating system's accounting of the child process).
 *
 * <p>Contract: {@link #start} returns once the broker answers admin requests; {@link #close} stops
 * it and waits for its exit (it deletes its own log directory, also when terminated by a signal).
 * The child also stops when this process dies: it runs until its standard input ends, which the
 * operating system closes with this process, and this process's shutdown hook terminates it. Its log goes to {@code broker.log} in the given directory.
 */
public final class BrokerProcess implements AutoCloseable {

  /** The broker JVM's heap: the load here is one producer and a few transactional sinks. */
  static final String HEAP = "-Xmx512m";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final Process process;
  private final String bootstrapServers;
  private final Thread stopOnExit;

  private BrokerProcess(Process process, String bootstrapServers) {
    this.process = process;
    this.bootstrapServers = bootstrapServers;
    this.stopOnExit = new Thread(process::destroy, "stop-kafka-broker");
    Runtime.getRuntime().addShutdownHook(stopOnExit);
  }

  /** Starts the broker JVM; {@code dir} receives its log and the address it reports. */
  public static BrokerProcess start(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path address = dir.resolve("bootstrap-servers");
    Files.deleteIfExists(address);
    Path log = dir.resolve("broker.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(java, HEAP, "-cp", System.getProperty("java.class.path"), BrokerProcess.class.getName(), address.toString())
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!Files.exists(address)) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the Kafka broker process exited with " + process.exitValue() + "; see " + log);
      }
      if (System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException("the Kafka broker did not start within " + START_TIMEOUT + "; see " + log);
      }
      Thread.sleep(100);
    }
    return new BrokerProcess(process, Files.readString(address, StandardCharsets.UTF_8).trim());
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The broker process's CPU time so far (all its threads, user and system), in nanoseconds. */
  public long cpuNanos() {
    return process.info().totalCpuDuration().map(Duration::toNanos)
        .orElseThrow(() -> new IllegalStateException("the operating system does not report the broker's CPU time"));
  }

  /** Ends the broker's input so it shuts down cleanly; kills it if it has not exited in 60 s. */
  @Override
  public void close() throws IOException, InterruptedException {
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.flush();
    }
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
    Runtime.getRuntime().removeShutdownHook(stopOnExit);
  }

  /**
   * The child: starts the broker, writes its bootstrap servers to the file {@code args[0]} (whole,
   * by a rename), and stops it when standard input ends.
   */
  public static void main(String[] args) throws IOException {
    Path address = Path.of(args[0]);
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(Map.of())) {
      // Killed rather than stopped (the parent's shutdown hook): still delete the log directory.
      Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "close-kafka-broker"));
      Path partial = address.resolveSibling(address.getFileName() + ".partial");
      Files.write(partial, List.of(broker.bootstrapServers()), StandardCharsets.UTF_8);
      Files.move(partial, address, StandardCopyOption.ATOMIC_MOVE);
      while (System.in.read() != -1) {
        // Nothing is ever sent: the parent only closes the stream.
      }
    }
    // The broker leaves non-daemon threads behind.
    System.exit(0);
  }
}
