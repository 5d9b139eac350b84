package io.vigil.jobs.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.jobs.testing.TestReadings;
import io.vigil.jobs.testing.WindowOracle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 4: a checkpoint fails in its asynchronous part (writing a state file), after the Kafka
 * sink pre-committed that checkpoint's transaction. The job fails over and, while it waits to
 * restart, the broker holds open transactions of the job's transactional id prefix. After the
 * restart with the same prefix, those are aborted, the output becomes visible to read_committed
 * consumers exactly once, and no transaction of the prefix stays open.
 */
class CheckpointFailureITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();
  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

  private static final String PREFIX = "vigil-cf-aggregates";
  private static final Set<TransactionState> OPEN =
      Set.of(TransactionState.ONGOING, TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT);

  private static final String SPEC =
      """
      name: cf
      eventType: SensorReading
      key: deviceId
      eventTime: eventTime
      input:
        kafka:
          bootstrapServers: %s
          topics: [cf-readings]
      aggregations:
        - name: device-10s
          window: { type: tumbling, size: 10 s }
          groupBy: [deviceId]
          compute: [count, sum(temperature)]
      outputs:
        aggregates: [{ kind: kafka, topic: cf-aggregates, transactionalIdPrefix: %s }]
        deadLetters: [{ kind: kafka, topic: cf-dead-letters }]
      settings:
        restart-strategy.type: fixed-delay
        restart-strategy.fixed-delay.attempts: 2
        restart-strategy.fixed-delay.delay: 4 s
        execution.checkpointing.tolerable-failed-checkpoints: 0
        execution.checkpointing.data-inline-threshold: 0 b
        vigil.checkpoint.interval: 300 ms
        vigil.checkpoint.dir: %s
      """;

  @Test
  void transactionsLeftOpenByAFailedCheckpointAreAbortedAndTheOutputCommittedAfterRestart(@TempDir Path checkpoints) throws Exception {
    FailingCheckpointFileSystem.reset();
    KAFKA.broker().createTopic("cf-readings", 2);
    KAFKA.broker().createTopic("cf-aggregates", 2);
    KAFKA.broker().createTopic("cf-dead-letters", 1);
    List<TestReadings.Sent> input =
        TestReadings.send(KAFKA.bootstrapServers(), "cf-readings", TestReadings.generate(50_000, 60, 5, 5, 2_000, 0.0, 31));
    Map<String, WindowOracle.Window> expected =
        WindowOracle.sliding(input.stream().map(s -> s.event(s.reading().getDeviceId())).toList(), 10_000, 10_000);
    String checkpointUri = FailingCheckpointFileSystem.SCHEME + "://" + checkpoints.toAbsolutePath();
    CompiledSpec spec = JobRunner.compile(SPEC.formatted(KAFKA.bootstrapServers(), PREFIX, checkpointUri));

    // Reading 5,000 events per second (25 s of event time) closes a window every 0.4 s for 10 s, so
    // every checkpoint's transactions hold aggregates and the armed failure comes before the end.
    // One partition per reader: a throttled reader with two splits drains one partition's fetched
    // batches for seconds before the other's first record, and that split holds its watermark back.
    JobClient job = JobRunner.startThrottled(spec, 5_000);
    await("a first completed checkpoint", Duration.ofSeconds(60), () -> completedCheckpoints(checkpoints) > 0);
    try (Admin admin = admin()) {
      FailingCheckpointFileSystem.failNextStateFile();
      // The failing write waits 1.5 s, so the failing checkpoint's transactions are pre-committed
      // and open on the broker before it fails; watch for them from the moment the failure is
      // armed (after the failure the writers may already have aborted them while cancelling).
      AtomicBoolean sawOpen = new AtomicBoolean();
      await("the injected checkpoint failure", Duration.ofSeconds(60), () -> {
        if (!openTransactions(admin).isEmpty()) {
          sawOpen.set(true);
        }
        return FailingCheckpointFileSystem.FAILURES.get() == 1;
      });
      assertThat(sawOpen).as("open transactions of %s before the failing checkpoint failed", PREFIX).isTrue();
      job.getJobExecutionResult().get(3, TimeUnit.MINUTES);

      assertThat(openTransactions(admin)).as("open transactions after the restart").isEmpty();
      List<String> ours = transactions(admin).stream().map(TransactionListing::transactionalId).toList();
      assertThat(admin.describeTransactions(ours).all().get(30, TimeUnit.SECONDS).values())
          .as("described transactions of " + PREFIX)
          .isNotEmpty()
          .allSatisfy(d -> assertThat(d.state()).isNotIn(OPEN));
    }
    assertThat(FailingCheckpointFileSystem.FAILURES.get()).as("exactly one injected failure").isEqualTo(1);
    OutputCheck check = OutputCheck.of(JobRunner.aggregates(KAFKA.bootstrapServers(), "cf-aggregates"), expected);
    assertThat(check.duplicated()).as("duplicated windows").isEmpty();
    assertThat(check.missing()).as("missing windows").isEmpty();
    assertThat(check.wrong()).as("windows with wrong values").isEmpty();
    assertThat(check.unexpected()).as("windows the input does not have").isEmpty();
  }

  private static Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()));
  }

  private static List<TransactionListing> transactions(Admin admin) {
    try {
      return admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
          .filter(t -> t.transactionalId().startsWith(PREFIX))
          .toList();
    } catch (Exception e) {
      throw new IllegalStateException("cannot list transactions", e);
    }
  }

  private static List<TransactionListing> openTransactions(Admin admin) {
    return transactions(admin).stream().filter(t -> OPEN.contains(t.state())).toList();
  }

  private static long completedCheckpoints(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(p -> p.getFileName().toString().equals("_metadata")).count();
    } catch (IOException | UncheckedIOException e) {
      // Flink deletes subsumed checkpoints while we walk; ask again on the next poll.
      return 0;
    }
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("timed out waiting for %s", what).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
