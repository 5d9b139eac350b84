package io.vigil.bench.cep;

import com.espertech.esper.common.client.EPCompiled;
import com.espertech.esper.common.client.configuration.Configuration;
import com.espertech.esper.compiler.client.CompilerArguments;
import com.espertech.esper.compiler.client.EPCompilerProvider;
import com.espertech.esper.runtime.client.EPDeployment;
import com.espertech.esper.runtime.client.EPEventService;
import com.espertech.esper.runtime.client.EPRuntime;
import com.espertech.esper.runtime.client.EPRuntimeProvider;
import io.vigil.bench.BenchSpec;
import io.vigil.bench.pipeline.HandWrittenJob;
import io.vigil.bench.pipeline.Reading;
import io.vigil.cep.RuleLibrary;
import io.vigil.cep.compile.CompiledRule;
import io.vigil.cep.compile.RuleCompiler;
import io.vigil.cep.engine.RuleEngine;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.RuleCommand;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.nfa.compiler.NFACompiler;
import org.apache.flink.cep.operator.CepOperator;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.Collector;

/**
 * The engines of the CEP comparison, each running {@code temperature-spike.yaml} single-threaded
 * on pre-built input, behind one interface: feed events, advance event time, count matches.
 *
 * <ul>
 *   <li>{@link #vigilEngine}: Vigil's {@link RuleEngine} with the rule added as a command, in
 *       Flink's keyed broadcast operator harness (heap state); as written (event-time order) or
 *       with {@code order: arrival} ({@link BenchSpec#ARRIVAL_RULE_YAML});
 *   <li>{@link #flinkCepCompiled}: Flink's {@link CepOperator} with the pattern Vigil's compiler
 *       builds from the same YAML (CEL conditions over envelopes), in the keyed operator harness;
 *   <li>{@link #flinkCepHandWritten}: {@link CepOperator} with the hand-written job's pattern
 *       (a plain Java condition over POJOs);
 *   <li>{@link #esper}: Esper 9 {@code match_recognize} (partition by device, pattern (A B),
 *       after match skip past last row), external time, no threads of its own.
 * </ul>
 *
 * The harnesses have no network stack and no serialization between operators, so these rows
 * measure the engines alone.
 */
public final class CepEngines {

  /** A CEP engine under test; {@code E} is its input type. */
  public interface Engine<E> extends AutoCloseable {
    void event(E event, long timestamp) throws Exception;

    /** Event time has reached {@code watermark}: buffered events up to it are matched. */
    void watermark(long watermark) throws Exception;

    /** Matches so far. */
    long matches();
  }

  /** The EPL of the rule. {@code within 5 min} is left out: a device's readings are 10 s apart. */
  public static final String EPL =
      """
      @name('spike') select * from Reading
      match_recognize (
        partition by deviceId
        measures A.eventId as before, B.eventId as spike
        after match skip past last row
        pattern (A B)
        define B as B.temperature >= A.temperature + 10.0
      )
      """;

  private static final KeySelector<GenericRecord, String> KEY = Envelopes::key;
  private static final AtomicInteger ESPER_RUNTIMES = new AtomicInteger();

  private CepEngines() {}

  /** Vigil's engine with {@code rules} active rules: the benchmark rule and copies under other ids. */
  public static Engine<GenericRecord> vigilEngine(Schema envelopeSchema, int rules) throws Exception {
    return vigilEngine(envelopeSchema, ruleCopies(rules));
  }

  /** Vigil's engine with these rules active. */
  public static Engine<GenericRecord> vigilEngine(Schema envelopeSchema, List<String> rules) throws Exception {
    KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h =
        ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
            new RuleEngine(envelopeSchema, "deviceId"), KEY, Types.STRING, RuleEngine.RULES);
    // As RuleCommands.watermarks() does in a job: the rule input never holds event time back.
    h.processBroadcastWatermark(Long.MAX_VALUE);
    for (String yaml : rules) {
      RuleCommand command = RuleLibrary.add(yaml, "bench");
      h.processBroadcastElement(command, 0);
    }
    h.getOutput().clear();
    return new Engine<>() {
      long matches;

      @Override
      public void event(GenericRecord envelope, long timestamp) throws Exception {
        h.processElement(envelope, timestamp);
      }

      @Override
      public void watermark(long watermark) throws Exception {
        h.processWatermark(watermark);
        for (Object o : h.getOutput()) {
          if (o instanceof StreamRecord<?> r && r.getValue() instanceof Alert) {
            matches++;
          }
        }
        h.getOutput().clear();
      }

      @Override
      public long matches() {
        return matches;
      }

      @Override
      public void close() throws Exception {
        h.close();
      }
    };
  }

  /**
   * The benchmark rule under {@code count} ids ({@code bench.temperature-spike}, {@code
   * bench.temperature-spike-1}, ...): the same work per rule, so per-event cost is comparable
   * across rule counts.
   */
  public static List<String> ruleCopies(int count) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(i == 0 ? BenchSpec.RULE_YAML : BenchSpec.RULE_YAML.replace("id: bench.temperature-spike", "id: bench.temperature-spike-" + i));
    }
    return out;
  }

  /** Flink CEP's operator with the pattern Vigil compiles from the rule. */
  public static Engine<GenericRecord> flinkCepCompiled(Schema envelopeSchema) throws Exception {
    CompiledRule compiled = RuleCompiler.compile(BenchSpec.RULE_YAML);
    TypeSerializer<GenericRecord> serializer = new GenericRecordAvroTypeInfo(envelopeSchema).createSerializer(new SerializerConfigImpl());
    return cepOperator(serializer, compiled.nfaFactory(), compiled.skipStrategy(), KEY);
  }

  /** Flink CEP's operator with the hand-written job's pattern over POJOs. */
  public static Engine<Reading> flinkCepHandWritten() throws Exception {
    TypeSerializer<Reading> serializer = TypeInformation.of(Reading.class).createSerializer(new SerializerConfigImpl());
    return cepOperator(
        serializer,
        NFACompiler.compileFactory(HandWrittenJob.spikePattern(), false),
        AfterMatchSkipStrategy.skipPastLastEvent(),
        (KeySelector<Reading, String>) r -> r.deviceId);
  }

  private static <E> Engine<E> cepOperator(
      TypeSerializer<E> serializer, NFACompiler.NFAFactory<E> nfa, AfterMatchSkipStrategy skip, KeySelector<E, String> key)
      throws Exception {
    CepOperator<E, String, Boolean> operator =
        new CepOperator<>(serializer, false, nfa, null, skip,
            new PatternProcessFunction<E, Boolean>() {
              @Override
              public void processMatch(Map<String, List<E>> match, Context ctx, Collector<Boolean> out) {
                out.collect(Boolean.TRUE);
              }
            },
            null);
    KeyedOneInputStreamOperatorTestHarness<String, E, Boolean> h = new KeyedOneInputStreamOperatorTestHarness<>(operator, key, Types.STRING);
    h.open();
    return new Engine<>() {
      long matches;

      @Override
      public void event(E event, long timestamp) throws Exception {
        h.processElement(new StreamRecord<>(event, timestamp));
      }

      @Override
      public void watermark(long watermark) throws Exception {
        h.processWatermark(watermark);
        for (Object o : h.getOutput()) {
          if (o instanceof StreamRecord<?>) {
            matches++;
          }
        }
        h.getOutput().clear();
      }

      @Override
      public long matches() {
        return matches;
      }

      @Override
      public void close() throws Exception {
        h.close();
      }
    };
  }

  /** Esper with {@link #EPL}; watermarks only advance its external clock. */
  public static Engine<EsperReading> esper() throws Exception {
    Configuration config = new Configuration();
    config.getCommon().addEventType("Reading", EsperReading.class);
    config.getRuntime().getThreading().setInternalTimerEnabled(false);
    EPCompiled compiled = EPCompilerProvider.getCompiler().compile(EPL, new CompilerArguments(config));
    EPRuntime runtime = EPRuntimeProvider.getRuntime("vigil-bench-" + ESPER_RUNTIMES.incrementAndGet(), config);
    EPDeployment deployment = runtime.getDeploymentService().deploy(compiled);
    long[] matches = new long[1];
    runtime.getDeploymentService().getStatement(deployment.getDeploymentId(), "spike")
        .addListener((newEvents, oldEvents, statement, rt) -> matches[0] += newEvents == null ? 0 : newEvents.length);
    EPEventService events = runtime.getEventService();
    return new Engine<>() {
      @Override
      public void event(EsperReading reading, long timestamp) {
        events.sendEventBean(reading, "Reading");
      }

      @Override
      public void watermark(long watermark) {
        // The final Long.MAX_VALUE of the other engines means "end of input"; Esper needs no flush.
        if (watermark != Long.MAX_VALUE) {
          events.advanceTime(watermark);
        }
      }

      @Override
      public long matches() {
        return matches[0];
      }

      @Override
      public void close() {
        runtime.destroy();
      }
    };
  }
}
