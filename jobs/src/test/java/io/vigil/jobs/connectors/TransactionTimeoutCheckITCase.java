package io.vigil.jobs.connectors;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.testing.JobRunner;
import io.vigil.jobs.testing.KafkaExtension;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An exactly-once output whose transaction timeout the broker would refuse is rejected before the job starts. */
class TransactionTimeoutCheckITCase {

  @RegisterExtension
  static final KafkaExtension KAFKA = new KafkaExtension(Map.of("transaction.max.timeout.ms", "300000"));

  private static CompiledSpec spec(String timeout, String guarantee) {
    return JobRunner.compile(
        """
        name: timeouts
        eventType: SensorReading
        key: deviceId
        eventTime: eventTime
        input:
          kafka: { bootstrapServers: "%1$s", topics: [in] }
        outputs:
          deadLetters: [{ kind: kafka, topic: dead, transactionTimeout: "%2$s", deliveryGuarantee: %3$s }]
        """
            .formatted(KAFKA.bootstrapServers(), timeout, guarantee));
  }

  @Test
  void rejectsATransactionTimeoutAboveTheBrokersMaximum() {
    assertThatThrownBy(() -> Connectors.verifyTransactionTimeouts(spec("6 min", "exactly-once")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("output topic 'dead'")
        .hasMessageContaining("PT6M")
        .hasMessageContaining("transaction.max.timeout.ms of PT5M");
  }

  @Test
  void acceptsATransactionTimeoutWithinTheBrokersMaximum() {
    assertThatCode(() -> Connectors.verifyTransactionTimeouts(spec("5 min", "exactly-once"))).doesNotThrowAnyException();
  }

  @Test
  void ignoresOutputsWithoutTransactions() {
    assertThatCode(() -> Connectors.verifyTransactionTimeouts(spec("6 min", "at-least-once"))).doesNotThrowAnyException();
  }
}
