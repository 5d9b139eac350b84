package io.vigil.cep.engine;

import io.vigil.schemas.RuleCommand;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

/**
 * Helpers for the rule engine's control stream of {@link RuleCommand}s.
 *
 * <p>The engine is a two-input operator, and its event time is the minimum of both inputs'
 * watermarks. Commands carry no event time, so the control stream must not hold event time back:
 * {@link #watermarks()} declares it permanently at the end of time. Without it no match would ever
 * be released.
 */
public final class RuleCommands {

  /** Commands' type information (Avro, no Kryo). */
  public static final TypeInformation<RuleCommand> TYPE = new AvroTypeInfo<>(RuleCommand.class);

  private RuleCommands() {}

  /** The watermark strategy of a control stream: its watermark is always {@code Long.MAX_VALUE}. */
  public static WatermarkStrategy<RuleCommand> watermarks() {
    return context -> new EndOfTime();
  }

  private static final class EndOfTime implements WatermarkGenerator<RuleCommand> {
    @Override
    public void onEvent(RuleCommand command, long timestamp, WatermarkOutput output) {
      output.emitWatermark(new Watermark(Long.MAX_VALUE));
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput output) {
      output.emitWatermark(new Watermark(Long.MAX_VALUE));
    }
  }
}
