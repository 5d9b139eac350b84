package io.vigil.jobs.connectors;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class RuleCommandDeserializerTest {

  private static List<RuleCommand> read(byte[] value) {
    List<RuleCommand> out = new ArrayList<>();
    new RuleCommandDeserializer()
        .deserialize(
            new ConsumerRecord<>("vigil-rules", 2, 17L, null, value),
            new Collector<>() {
              @Override
              public void collect(RuleCommand record) {
                out.add(record);
              }

              @Override
              public void close() {}
            });
    return out;
  }

  @Test
  void readsASingleObjectEncodedCommandAndNotesItsOffset() throws Exception {
    RuleCommand sent = RuleCommand.newBuilder().setAction(RuleAction.DISABLE).setRuleId("iot.device-silent").build();
    ByteBuffer bytes = sent.toByteBuffer();
    byte[] value = new byte[bytes.remaining()];
    bytes.get(value);
    assertThat(read(value)).singleElement().satisfies(c -> {
      assertThat(c.getAction()).isEqualTo(RuleAction.DISABLE);
      assertThat(c.getRuleId()).isEqualTo("iot.device-silent");
      assertThat(c.getSource()).isEqualTo("vigil-rules/2@17");
    });
  }

  @Test
  void turnsGarbageIntoACommandTheEngineRejectsVisibly() {
    for (byte[] garbage : new byte[][] {null, new byte[0], "not avro".getBytes(), new byte[] {(byte) 0xC3, 0x01, 1, 2}}) {
      assertThat(read(garbage)).singleElement().satisfies(c -> {
        assertThat(c.getAction()).isEqualTo(RuleAction.ADD);
        assertThat(c.getYaml()).isEmpty();
        assertThat(c.getSource()).startsWith("vigil-rules/2@17: not a RuleCommand");
      });
    }
  }
}
