package io.vigil.functions.ingest;

import static io.vigil.functions.ingest.SensorReadings.SOURCE;
import static io.vigil.functions.ingest.SensorReadings.reading;
import static io.vigil.functions.ingest.SensorReadings.settings;
import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.DeadLetterReason;
import io.vigil.schemas.SensorReading;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.metrics.groups.TaskManagerMetricGroup;
import org.apache.flink.runtime.metrics.groups.TaskMetricGroup;
import org.apache.flink.runtime.metrics.util.TestingMetricRegistry;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The router counts valid events and dead letters per reason under the {@code vigil} group. */
class DeadLetterRouterMetricsTest {

  private final Map<String, Counter> counters = new HashMap<>();

  @Test
  void countsValidEventsAndDeadLettersPerReason() throws Exception {
    TestingMetricRegistry registry =
        TestingMetricRegistry.builder()
            .setDelimiter('.')
            .setRegisterConsumer(
                (metric, name, group) -> {
                  if (metric instanceof Counter counter) {
                    counters.put(String.join(".", group.getScopeComponents()) + "." + name, counter);
                  }
                })
            .build();
    TaskMetricGroup taskMetrics =
        TaskManagerMetricGroup.createTaskManagerMetricGroup(
                registry, "localhost", ResourceID.generate())
            .addJob(new JobID(), "job")
            .addTask(ExecutionAttemptID.randomId(), "task");
    MockEnvironment environment = new MockEnvironmentBuilder().setMetricGroup(taskMetrics).build();
    EventDecoder decoder = new EventDecoder(settings());

    try (OneInputStreamOperatorTestHarness<GenericRecord, GenericRecord> harness =
        new OneInputStreamOperatorTestHarness<>(
            new ProcessOperator<>(new DeadLetterRouter("SensorReading")), environment)) {
      harness.setup(
          Envelopes.typeInfo(SensorReading.getClassSchema())
              .createSerializer(harness.getExecutionConfig().getSerializerConfig()));
      harness.open();
      harness.processElement(decoder.decode(SOURCE, EventEncoders.avroBinary(reading())), 1L);
      harness.processElement(decoder.decode(SOURCE, EventEncoders.json(reading())), 2L);
      harness.processElement(decoder.decode(SOURCE, new byte[0]), 3L);
      harness.processElement(decoder.decode(SOURCE, null), 4L);
      harness.processElement(decoder.decode(SOURCE, new byte[] {(byte) 0xC3, 1, 9}), 5L);

      assertThat(counter("vigil.validEvents")).isEqualTo(2);
      assertThat(counter("vigil.deadLetters.reason.EMPTY_RECORD.count")).isEqualTo(2);
      assertThat(counter("vigil.deadLetters.reason.UNDECODABLE.count")).isEqualTo(1);
      for (DeadLetterReason reason : DeadLetterReason.values()) {
        assertThat(counterNamed("vigil.deadLetters.reason." + reason.name() + ".count"))
            .as(reason.name())
            .isNotNull();
      }
      assertThat(counter("vigil.deadLetters.reason.MISSING_KEY.count")).isZero();
    }
  }

  private long counter(String suffix) {
    Counter counter = counterNamed(suffix);
    assertThat(counter).as(suffix + " in " + counters.keySet()).isNotNull();
    return counter.getCount();
  }

  private Counter counterNamed(String suffix) {
    return counters.entrySet().stream()
        .filter(e -> e.getKey().endsWith("." + suffix))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElse(null);
  }
}
