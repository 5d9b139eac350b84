package io.vigil.jobs.rules;

import io.vigil.functions.ingest.EventEncoders;
import io.vigil.jobs.cli.VigilCli;
import io.vigil.jobs.kafka.CommittedRecords;
import io.vigil.schemas.Alert;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.RuleStatus;
import io.vigil.schemas.SensorReading;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine;

/**
 * Input and output of ITCases that change a running spec's rules: sensor readings on a 2-partition
 * input topic with increasing event times, "phase done" markers, and the committed alerts and
 * statuses.
 *
 * <p>A phase ends with a reading of 999 degrees (which the {@link #MARKER} rule alerts on) and a
 * tick on both partitions a minute later, so the watermark passes everything sent before; once
 * the marker's alert is committed, every alert of the phase is too, so "no alert" is checkable.
 */
final class RuleTraffic implements AutoCloseable {

  /** Alerts on every 999-degree reading: shows a phase has been processed. */
  static final String MARKER =
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

  /** A warm reading, then one more than THRESHOLD degrees hotter, within 10 s. */
  static final String HOT =
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
          where: temperature > 30.0 && temperature < 100.0
        - name: hotter
          where: temperature > first(warm).temperature + %s && temperature < 100.0
      """;

  record Cli(int exit, String out, String err) {}

  private final String bootstrap;
  private final String events;
  private final String alerts;
  private final String status;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Map<String, Integer> seq = new HashMap<>();
  private long time = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
  private int markers;

  RuleTraffic(String bootstrap, String events, String alerts, String status) {
    this.bootstrap = bootstrap;
    this.events = events;
    this.alerts = alerts;
    this.status = status;
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /** Runs the {@code vigil} command line in this JVM, as a user would in a shell. */
  static Cli vigil(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new VigilCli()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    return new Cli(exit, out.toString(), err.toString());
  }

  /** Sends one reading of {@code device}, one second after the previous reading; returns its event id. */
  String send(String device, double temperature) throws Exception {
    int n = seq.merge(device, 1, Integer::sum);
    time += 1_000;
    String id = device + "-" + n;
    SensorReading r = reading(id, device, temperature);
    producer.send(new ProducerRecord<>(events, Math.floorMod(device.hashCode(), 2), device.getBytes(), EventEncoders.singleObject(r))).get();
    return id;
  }

  private SensorReading reading(String id, String device, double temperature) {
    return SensorReading.newBuilder()
        .setEventId(id)
        .setDeviceId(device)
        .setSite("site")
        .setEventTime(Instant.ofEpochMilli(time))
        .setTemperature(temperature)
        .setHumidity(40)
        .setBattery(90)
        .setStatus(DeviceStatus.OK)
        .setFirmware("1")
        .build();
  }

  /** A marker reading, then ticks on both partitions; waits until the marker's alert is committed. */
  void phaseDone() throws Exception {
    send("marker-" + markers, 999);
    markers++;
    time += 60_000;
    for (int p = 0; p < 2; p++) {
      SensorReading tick = reading("tick-" + time + "-" + p, "tick-" + p, 0);
      producer.send(new ProducerRecord<>(events, p, ("tick-" + p).getBytes(), EventEncoders.singleObject(tick))).get();
    }
    int wanted = markers;
    await(() -> alerts().stream().filter(a -> a.getRuleId().equals("marker")).count() >= wanted, "marker alert " + wanted);
  }

  int markers() {
    return markers;
  }

  List<Alert> alerts() {
    List<Alert> out = new ArrayList<>();
    for (var r : CommittedRecords.read(bootstrap, alerts)) {
      try {
        out.add(Alert.getDecoder().decode(r.value()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  List<RuleStatus> statuses() {
    List<RuleStatus> out = new ArrayList<>();
    for (var r : CommittedRecords.read(bootstrap, status)) {
      try {
        out.add(RuleStatus.getDecoder().decode(r.value()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  /** Waits for the {@code n}th status, then a moment more: statuses come from subtask 0 only. */
  void awaitStatuses(int n) throws InterruptedException {
    await(() -> statuses().size() >= n, n + " rule statuses");
    Thread.sleep(500);
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
