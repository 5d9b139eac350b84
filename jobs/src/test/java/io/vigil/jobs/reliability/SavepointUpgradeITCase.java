package io.vigil.jobs.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.ingest.EventEncoders;
import io.vigil.jobs.VigilJob;
import io.vigil.jobs.connectors.Connectors;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import io.vigil.jobs.testing.TestReadings;
import io.vigil.jobs.testing.WindowOracle;
import io.vigil.schemas.EventTypes;
import io.vigil.schemas.SensorReading;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.FileUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 6, upgrade: a savepoint taken by a released Vigil version restores in this build.
 *
 * <p>Each release commits one small canonical savepoint under {@code
 * src/test/resources/savepoints/<version>/}: run this test once with {@code
 * -Dvigil.generateSavepoints=true} on the release commit (it then only writes the savepoint), add the
 * version to {@link #RELEASES} and commit the files.
 * The savepoint holds a job that read {@link #before} (all in the first, still open, minute
 * windows) from a 4-partition topic. Restoring, the test writes decoys of those records (same keys,
 * so the same partitions and offsets, but other temperatures) followed by {@link #after}, half of them written with the
 * previous SensorReading schema (v1, without the {@code firmware} field that the current schema
 * added with a default). Every window must then equal the oracle over both parts: the restored
 * window state (the first part's events) is merged with the new events, and the restored offsets
 * keep the decoys from being read.
 *
 * <p>The window state type ({@code WindowAccumulator}, a Flink POJO) has not changed since 0.1.0;
 * when a release adds a field to it, this test restores the older savepoints with the new type.
 */
class SavepointUpgradeITCase {

  @RegisterExtension static final MiniClusterExtension FLINK = KafkaExtension.miniCluster();
  @RegisterExtension static final KafkaExtension KAFKA = new KafkaExtension();

  /** Released versions with a committed savepoint; add one per release. */
  static final List<String> RELEASES = List.of("0.1.0");
  static final String CURRENT = "0.1.0";
  private static final Path SAVEPOINTS = Path.of("src/test/resources/savepoints");

  private static final String SPEC =
      """
      name: upgrade
      eventType: SensorReading
      key: deviceId
      eventTime: eventTime
      input:
        kafka:
          bootstrapServers: %s
          topics: [upgrade-readings]
          groupId: upgrade
      aggregations:
        - name: device-1m
          window: { type: tumbling, size: 1 min }
          groupBy: [deviceId]
          compute: [count, sum(temperature)]
      outputs:
        aggregates: [{ kind: kafka, topic: upgrade-aggregates }]
        deadLetters: [{ kind: kafka, topic: upgrade-dead-letters }]
      settings:
        vigil.checkpoint.interval: 300 ms
        vigil.checkpoint.dir: %s
      """;

  /**
   * Readings of 20 devices in the first 50 s: their one-minute window stays open until the
   * savepoint. The few that disorder puts before the start are left out, as their window closes.
   */
  private static List<TestReadings.Sent> before() {
    return TestReadings.generate(1_000, 20, 4, 50, 1_000, 0.0, 61).stream().filter(s -> s.reading().getEventTime().toEpochMilli() >= TestReadings.START).toList();
  }

  /** 1,000 readings from 30 s to 130 s, then one reading per device ten minutes later to close every window before it. */
  private static List<TestReadings.Sent> after() {
    List<TestReadings.Sent> sent = new ArrayList<>();
    for (TestReadings.Sent s : TestReadings.generate(1_000, 20, 4, 100, 1_000, 0.0, 62)) {
      SensorReading r = SensorReading.newBuilder(s.reading()).setEventId("after-" + s.reading().getEventId())
          .setEventTime(s.reading().getEventTime().plusSeconds(30)).build();
      sent.add(new TestReadings.Sent(s.key(), sent.size() % 2 == 0 ? EventEncoders.singleObject(r) : asV1(r), r, false, -1, -1));
    }
    for (int d = 0; d < 20; d++) {
      SensorReading r = SensorReading.newBuilder(sent.get(0).reading()).setEventId("close-" + d).setDeviceId("device-" + d)
          .setEventTime(Instant.ofEpochMilli(TestReadings.START + 600_000)).build();
      sent.add(new TestReadings.Sent(r.getDeviceId(), EventEncoders.singleObject(r), r, false, -1, -1));
    }
    return sent;
  }

  /** The reading written with SensorReading v1, which lacks {@code firmware}. */
  private static byte[] asV1(SensorReading r) {
    Schema v1 = EventTypes.find("SensorReading").orElseThrow().history().get(0);
    assertThat(v1.getField("firmware")).as("v1 has no firmware field").isNull();
    GenericRecord old = new GenericData.Record(v1);
    for (Schema.Field f : v1.getFields()) {
      Object value = r.get(f.name());
      old.put(f.name(), value instanceof Enum<?> e ? new GenericData.EnumSymbol(f.schema(), e.name())
          : value instanceof Instant t ? t.toEpochMilli() : value);
    }
    try {
      return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old).array();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void savepointsOfReleasedVersionsRestoreAndContinueExactly(@TempDir Path temp) throws Exception {
    if (Boolean.getBoolean("vigil.generateSavepoints")) {
      // Generating only: the next run without the flag restores what was written.
      generate(SAVEPOINTS.resolve(CURRENT), temp);
      return;
    }
    for (String release : RELEASES) {
      Path committed = SAVEPOINTS.resolve(release);
      assertThat(committed.resolve("_metadata")).as("committed savepoint of %s", release).exists();
      restoreAndCheck(release, committed, temp.resolve(release));
    }
  }

  private void generate(Path target, Path temp) throws Exception {
    KAFKA.broker().createTopic("upgrade-readings", 4);
    List<TestReadings.Sent> first = TestReadings.send(KAFKA.bootstrapServers(), "upgrade-readings", before());
    JobClient job = start(temp.resolve("gen-checkpoints"), null);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (committedOffsets() < first.size()) {
      assertThat(System.nanoTime()).as("the job read the first part").isLessThan(deadline);
      Thread.sleep(200);
    }
    String location = job.stopWithSavepoint(false, temp.resolve("gen-savepoints").toUri().toString(), SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
    FileUtils.deleteDirectory(target.toFile());
    FileUtils.copy(new org.apache.flink.core.fs.Path(location), new org.apache.flink.core.fs.Path(target.toAbsolutePath().toUri()), false);
  }

  private void restoreAndCheck(String release, Path committed, Path temp) throws Exception {
    Path savepoint = temp.resolve("savepoint");
    Files.createDirectories(savepoint);
    try (Stream<Path> files = Files.list(committed)) {
      for (Path f : files.toList()) {
        Files.copy(f, savepoint.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    KAFKA.broker().createTopic("upgrade-readings", 4);
    KAFKA.broker().createTopic("upgrade-aggregates", 2);
    KAFKA.broker().createTopic("upgrade-dead-letters", 1);
    // The restored job must not read these: they sit at the offsets the savepoint already read,
    // and their temperatures differ, so reading them again would change the sums.
    List<TestReadings.Sent> decoys = new ArrayList<>();
    for (TestReadings.Sent s : before()) {
      SensorReading r = SensorReading.newBuilder(s.reading()).setTemperature(s.reading().getTemperature() + 1_000).build();
      decoys.add(new TestReadings.Sent(s.key(), EventEncoders.singleObject(r), r, false, -1, -1));
    }
    TestReadings.send(KAFKA.bootstrapServers(), "upgrade-readings", decoys);
    List<TestReadings.Sent> all = new ArrayList<>(before());
    all.addAll(TestReadings.send(KAFKA.bootstrapServers(), "upgrade-readings", after()));

    Map<String, WindowOracle.Window> expected = new TreeMap<>(
        WindowOracle.sliding(all.stream().map(s -> s.event(s.reading().getDeviceId())).toList(), 60_000, 60_000));
    expected.keySet().removeIf(id -> Long.parseLong(id.split("\\|")[1]) >= TestReadings.START + 600_000 - 60_000);

    JobClient job = start(temp.resolve("checkpoints"), savepoint);
    OutputCheck check;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    do {
      Thread.sleep(1_000);
      check = OutputCheck.of(JobRunner.aggregates(KAFKA.bootstrapServers(), "upgrade-aggregates"), expected);
    } while (!check.missing().isEmpty() && System.nanoTime() < deadline);
    job.cancel().get(1, TimeUnit.MINUTES);
    assertThat(check.missing()).as("windows missing after restoring %s", release).isEmpty();
    assertThat(check.duplicated()).as("duplicated windows").isEmpty();
    assertThat(check.wrong()).as("windows that lost restored state or read the first part twice").isEmpty();
    assertThat(check.unexpected()).as("windows the input does not have").isEmpty();
    assertThat(JobRunner.deadLetters(KAFKA.bootstrapServers(), "upgrade-dead-letters")).as("v1 events are valid").isEmpty();
  }

  private static JobClient start(Path checkpoints, Path savepoint) throws Exception {
    Configuration conf = new Configuration();
    if (savepoint != null) {
      conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint.toUri().toString());
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(2);
    CompiledSpec spec = JobRunner.compile(SPEC.formatted(KAFKA.bootstrapServers(), checkpoints.toUri()));
    new VigilJob(spec, Connectors.kafkaSource(spec, false), Connectors.sinks(spec)).build(env);
    return env.executeAsync(spec.name());
  }

  private static long committedOffsets() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers()))) {
      return admin.listConsumerGroupOffsets("upgrade").partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
          .values().stream().mapToLong(OffsetAndMetadata::offset).sum();
    }
  }
}
