package io.vigil.jobs.testing;

import io.vigil.jobs.kafka.EmbeddedKafkaBroker;
import java.util.Map;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Kafka broker (KRaft, in-process) for the test class: started before its first test and
 * stopped after its last. Register with {@code @RegisterExtension static final KafkaExtension}.
 */
public final class KafkaExtension implements BeforeAllCallback, AfterAllCallback {

  private final Map<String, String> overrides;
  private EmbeddedKafkaBroker broker;

  public KafkaExtension() {
    this(Map.of());
  }

  /** With broker settings, e.g. {@code transaction.max.timeout.ms}. */
  public KafkaExtension(Map<String, String> overrides) {
    this.overrides = overrides;
  }

  /** The MiniCluster every Vigil ITCase runs on: one TaskManager with two slots, for parallelism 2. */
  public static MiniClusterExtension miniCluster() {
    return new MiniClusterExtension(
        new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    broker = EmbeddedKafkaBroker.start(overrides);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    broker.close();
  }

  public EmbeddedKafkaBroker broker() {
    return broker;
  }

  public String bootstrapServers() {
    return broker.bootstrapServers();
  }
}
