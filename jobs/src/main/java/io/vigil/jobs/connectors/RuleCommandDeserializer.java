package io.vigil.jobs.connectors;

import io.vigil.cep.engine.RuleCommands;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.AvroRuntimeException;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads RuleCommands (Avro single-object encoding) from a control topic. A record that is not a
 * RuleCommand becomes an ADD of an empty rule naming its offset, which the engine rejects with a
 * RuleStatus: bad control input is reported where rule changes are reported, and never stops the
 * job.
 */
final class RuleCommandDeserializer implements KafkaRecordDeserializationSchema<RuleCommand> {

  private static final long serialVersionUID = 1L;

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RuleCommand> out) {
    String where = record.topic() + "/" + record.partition() + "@" + record.offset();
    try {
      RuleCommand command = RuleCommand.getDecoder().decode(ByteBuffer.wrap(record.value() == null ? new byte[0] : record.value()));
      command.setSource(where);
      out.collect(command);
    } catch (IOException | AvroRuntimeException | IllegalArgumentException e) {
      out.collect(
          RuleCommand.newBuilder()
              .setAction(RuleAction.ADD)
              .setRuleId("?")
              .setYaml("")
              .setSource(where + ": not a RuleCommand (" + e.getClass().getSimpleName() + ")")
              .build());
    }
  }

  @Override
  public TypeInformation<RuleCommand> getProducedType() {
    return RuleCommands.TYPE;
  }
}
