package io.vigil.jobs.rules;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.cep.engine.RuleCommands;
import io.vigil.cep.engine.RuleEngine;
import io.vigil.functions.event.Envelopes;
import io.vigil.functions.ingest.DecodeSettings;
import io.vigil.functions.ingest.EnvelopeDeserializationSchema;
import io.vigil.functions.ingest.EnvelopeWatermarks;
import io.vigil.functions.ingest.EventEncoders;
import io.vigil.functions.sink.AvroKafkaSerializer;
import io.vigil.functions.sink.OutputFormat;
import io.vigil.jobs.kafka.CommittedRecords;
import io.vigil.jobs.kafka.EmbeddedKafkaBroker;
import io.vigil.schemas.Alert;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.MatchedEvent;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.RuleStatus;
import io.vigil.schemas.SensorReading;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.AbstractDeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Rules change while a job runs on a real Kafka broker: a rule is added, updated, disabled,
 * enabled and deleted between batches of events, and the job is failed and restored from a
 * checkpoint in the middle. The committed (read_committed) alerts are exactly those the rule
 * version in force at each point produces, each once.
 *
 * <p>Each phase waits for the command's status on the status topic, then sends events whose
 * event time is after everything before, then "tick" events on both partitions to move the
 * watermark past them. A second rule, {@code marker}, alerts on every reading of 999 degrees: its
 * alert after each phase shows the phase has been fully processed, so "no alert" is checkable.
 */
class DynamicRulesKafkaITCase {

  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  private static final String EVENTS = "rules-it-events";
  private static final String COMMANDS = "rules-it-commands";
  private static final String ALERTS = "rules-it-alerts";
  private static final String STATUS = "rules-it-status";

  private static final String HOT =
      """
      id: hot
      version: %d
      severity: high
      eventTypes: [SensorReading]
      key: deviceId
      within: 10 s
      afterMatch: skip-past-last-event
      pattern:
        - name: warm
          where: temperature > 30 && temperature < 100
        - name: hot
          where: temperature > first(warm).temperature + %s && temperature < 100
      """;

  private static final String MARKER =
      """
      id: marker
      version: 1
      severity: info
      eventTypes: [SensorReading]
      key: deviceId
      pattern:
        - name: mark
          where: temperature == 999.0
      """;

  /** Fails the job once, when the event with this id passes. */
  static final AtomicBoolean FAILED = new AtomicBoolean();

  private static EmbeddedKafkaBroker kafka;
  private static KafkaProducer<byte[], byte[]> producer;
  private static long time = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
  private static int markers;

  @BeforeAll
  static void startKafka() {
    kafka = EmbeddedKafkaBroker.start();
    kafka.createTopic(EVENTS, 2);
    kafka.createTopic(COMMANDS, 1);
    kafka.createTopic(ALERTS, 2);
    kafka.createTopic(STATUS, 1);
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @AfterAll
  static void stopKafka() {
    producer.close();
    kafka.close();
  }

  @Test
  void alertsFollowTheRuleVersionInForceAcrossChangesAndARestore() throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(configuration());
    env.setParallelism(2);
    build(env);
    JobClient job = env.executeAsync("dynamic-rules-it");
    try {
      command(RuleAction.ADD, MARKER, 1);
      command(RuleAction.ADD, HOT.formatted(1, "10.0"), 2);
      pair("a", 31, 45);
      phaseDone();

      command(RuleAction.UPDATE, HOT.formatted(2, "20.0"), 3);
      pair("b", 31, 45);
      pair("c", 31, 60);
      phaseDone();

      // A partial match open across a failure: "d" warms, the job fails and restores, "d" heats.
      send("d", 31);
      send("boom", 0);
      send("d", 60);
      phaseDone();
      assertThat(FAILED).as("the failure was injected").isTrue();

      command(RuleAction.DISABLE, null, 4);
      pair("e", 31, 60);
      phaseDone();

      command(RuleAction.ENABLE, null, 5);
      pair("f", 31, 60);
      phaseDone();

      command(RuleAction.DELETE, null, 6);
      pair("g", 31, 60);
      phaseDone();
    } finally {
      job.cancel().get();
    }

    List<Alert> alerts = alerts();
    assertThat(alerts.stream().map(Alert::getAlertId).toList()).as("no duplicates").doesNotHaveDuplicates();
    List<String> hot = new ArrayList<>();
    for (Alert a : alerts) {
      if (a.getRuleId().equals("hot")) {
        hot.add(a.getRuleVersion() + " " + a.getKey() + " " + a.getEvents().stream().map(MatchedEvent::getEventId).toList());
      }
    }
    assertThat(hot)
        .containsExactlyInAnyOrder(
            "1 a [a-1, a-2]",
            "2 c [c-1, c-2]",
            "2 d [d-1, d-2]",
            "2 f [f-1, f-2]");
    assertThat(alerts).filteredOn(a -> a.getRuleId().equals("marker")).hasSize(markers);
    List<RuleStatus> statuses = statuses();
    assertThat(statuses).extracting(RuleStatus::getAccepted).containsOnly(true);
    assertThat(statuses).extracting(s -> s.getRuleId() + " " + s.getAction() + " " + s.getActiveVersion())
        .containsExactly("marker ADD 1", "hot ADD 1", "hot UPDATE 2", "hot DISABLE 2", "hot ENABLE 2", "hot DELETE null");
  }

  private static Configuration configuration() {
    Configuration c = new Configuration();
    c.setString("pipeline.generic-types", "false");
    c.setString("execution.checkpointing.interval", "200 ms");
    c.setString("restart-strategy.type", "fixed-delay");
    c.setString("restart-strategy.fixed-delay.attempts", "3");
    c.setString("restart-strategy.fixed-delay.delay", "200 ms");
    return c;
  }

  private static void build(StreamExecutionEnvironment env) {
    DecodeSettings decode = DecodeSettings.defaults("SensorReading", "deviceId", "eventTime");
    KafkaSource<GenericRecord> events =
        KafkaSource.<GenericRecord>builder()
            .setBootstrapServers(kafka.bootstrapServers())
            .setTopics(EVENTS)
            .setGroupId("rules-it")
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setDeserializer(new EnvelopeDeserializationSchema(decode))
            .build();
    KafkaSource<RuleCommand> commands =
        KafkaSource.<RuleCommand>builder()
            .setBootstrapServers(kafka.bootstrapServers())
            .setTopics(COMMANDS)
            .setGroupId("rules-it-commands")
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setValueOnlyDeserializer(new CommandDeserializer())
            .build();
    DataStream<GenericRecord> envelopes =
        env.fromSource(events, EnvelopeWatermarks.forEnvelopes(Duration.ZERO, null), "events")
            .map(DynamicRulesKafkaITCase::failOnce)
            .returns(Envelopes.typeInfo(SensorReading.getClassSchema()));
    BroadcastStream<RuleCommand> rules =
        env.fromSource(commands, RuleCommands.watermarks(), "rule commands").setParallelism(1).broadcast(RuleEngine.RULES);
    SingleOutputStreamOperator<Alert> alerts =
        envelopes
            .keyBy(Envelopes::key)
            .connect(rules)
            .process(new RuleEngine(Envelopes.schema(SensorReading.getClassSchema()), "deviceId"), RuleEngine.ALERT_TYPE)
            .name("rules");
    alerts.sinkTo(sink(ALERTS, "rules-it-alerts", Alert::getKey));
    alerts.getSideOutput(RuleEngine.STATUS).sinkTo(sink(STATUS, "rules-it-status", RuleStatus::getRuleId));
  }

  private static GenericRecord failOnce(GenericRecord envelope) {
    if ("boom".equals(Envelopes.key(envelope)) && FAILED.compareAndSet(false, true)) {
      throw new IllegalStateException("injected failure");
    }
    return envelope;
  }

  private static <T extends org.apache.avro.specific.SpecificRecordBase> KafkaSink<T> sink(
      String topic, String prefix, org.apache.flink.util.function.SerializableFunction<T, String> key) {
    Properties props = new Properties();
    props.setProperty("transaction.timeout.ms", "60000");
    return KafkaSink.<T>builder()
        .setBootstrapServers(kafka.bootstrapServers())
        .setRecordSerializer(new AvroKafkaSerializer<>(topic, OutputFormat.AVRO, key))
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix(prefix)
        .setKafkaProducerConfig(props)
        .build();
  }

  /** Decodes Avro single-object RuleCommands. */
  static final class CommandDeserializer extends AbstractDeserializationSchema<RuleCommand> {
    @Override
    public RuleCommand deserialize(byte[] message) throws IOException {
      return RuleCommand.getDecoder().decode(message);
    }

    @Override
    public TypeInformation<RuleCommand> getProducedType() {
      return RuleCommands.TYPE;
    }
  }

  private static void command(RuleAction action, String yaml, int statusCount) throws Exception {
    String id = yaml != null && yaml.startsWith("id: marker") ? "marker" : "hot";
    Integer version = yaml == null ? null : Integer.parseInt(yaml.split("\n")[1].substring("version: ".length()).trim());
    ByteBuffer bytes = RuleCommand.getEncoder().encode(new RuleCommand(action, id, version, yaml, "test"));
    byte[] value = new byte[bytes.remaining()];
    bytes.get(value);
    producer.send(new ProducerRecord<>(COMMANDS, 0, null, value)).get();
    await(() -> statuses().size() >= statusCount, "status of " + action + " " + id);
    // Status comes from subtask 0; give the other instance a moment to take the command too.
    Thread.sleep(500);
  }

  private static void pair(String device, double first, double second) throws Exception {
    send(device, first);
    send(device, second);
  }

  private static final java.util.Map<String, Integer> SEQ = new java.util.HashMap<>();

  private static void send(String device, double temperature) throws Exception {
    int n = SEQ.merge(device, 1, Integer::sum);
    time += 1_000;
    SensorReading r =
        SensorReading.newBuilder()
            .setEventId(device + "-" + n)
            .setDeviceId(device)
            .setSite("site")
            .setEventTime(Instant.ofEpochMilli(time))
            .setTemperature(temperature)
            .setHumidity(40)
            .setBattery(90)
            .setStatus(DeviceStatus.OK)
            .setFirmware("1")
            .build();
    producer.send(new ProducerRecord<>(EVENTS, Math.abs(device.hashCode()) % 2, device.getBytes(), EventEncoders.singleObject(r))).get();
  }

  /** A marker reading, then ticks on both partitions far enough ahead to release everything. */
  private static void phaseDone() throws Exception {
    send("marker-" + markers, 999);
    markers++;
    time += 60_000;
    for (int p = 0; p < 2; p++) {
      SensorReading tick =
          SensorReading.newBuilder()
              .setEventId("tick-" + time + "-" + p)
              .setDeviceId("tick-" + p)
              .setSite("site")
              .setEventTime(Instant.ofEpochMilli(time))
              .setTemperature(0)
              .setHumidity(40)
              .setBattery(90)
              .setStatus(DeviceStatus.OK)
              .setFirmware("1")
              .build();
      producer.send(new ProducerRecord<>(EVENTS, p, ("tick-" + p).getBytes(), EventEncoders.singleObject(tick))).get();
    }
    int wanted = markers;
    await(() -> alerts().stream().filter(a -> a.getRuleId().equals("marker")).count() >= wanted, "marker " + wanted);
  }

  private static List<Alert> alerts() {
    List<Alert> out = new ArrayList<>();
    for (var r : CommittedRecords.read(kafka.bootstrapServers(), ALERTS)) {
      try {
        out.add(Alert.getDecoder().decode(r.value()));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  private static List<RuleStatus> statuses() {
    List<RuleStatus> out = new ArrayList<>();
    for (var r : CommittedRecords.read(kafka.bootstrapServers(), STATUS)) {
      try {
        out.add(RuleStatus.getDecoder().decode(r.value()));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  private static void await(Supplier<Boolean> condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(200);
    }
  }
}
