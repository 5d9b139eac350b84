package io.vigil.bench.jmh;

import dev.cel.common.types.SimpleType;
import io.vigil.cep.cel.CelEnvironment;
import io.vigil.cep.cel.CelValues;
import io.vigil.cep.cel.CompiledExpression;
import io.vigil.cep.cel.StageAccess;
import io.vigil.functions.event.Envelopes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A rule condition evaluated as {@code StageCondition} evaluates it for a new event: the event's
 * fields converted to CEL values, an activation built, the compiled program run. Two conditions:
 * on the current event only, and the benchmark rule's, which also reads the previous stage.
 * {@code evalOnly} runs the program on a prepared activation, separating CEL from the conversion.
 * The {@code fast} cases evaluate the same conditions with their {@code FastCondition}, as {@code
 * StageCondition} now does, reading the event and the stage's events in place.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class CelBenchmark {

  private CompiledExpression fieldCondition;
  private CompiledExpression stageCondition;
  private List<GenericRecord> events;
  private Map<String, Object> prepared;
  private List<List<GenericRecord>> previous;
  private int next;

  /** The stage {@code before} as a list of events, the partial match of these cases. */
  private static final StageAccess<List<GenericRecord>> BEFORE =
      new StageAccess<>() {
        @Override
        public Iterable<GenericRecord> events(List<GenericRecord> context, String stage) {
          return context;
        }

        @Override
        public GenericRecord event(GenericRecord element) {
          return element;
        }
      };

  @Setup
  public void setUp() {
    events = Inputs.envelopes(Inputs.CYCLE, 100).stream().map(Envelopes::event).toList();
    Schema schema = events.get(0).getSchema();
    fieldCondition = new CelEnvironment(schema, List.of(), SimpleType.BOOL).compile("temperature > 20.0 && status == 'OK'");
    stageCondition =
        new CelEnvironment(schema, List.of(new CelEnvironment.StageType("before", schema)), SimpleType.BOOL)
            .compile("temperature >= last(before).temperature + 10.0");
    prepared = activation(events.get(0));
    previous = new ArrayList<>();
    for (int i = 0; i < Inputs.CYCLE; i++) {
      previous.add(List.of(events.get((i + 1) & (Inputs.CYCLE - 1))));
    }
    if (fieldCondition.fast() == null || stageCondition.fast() == null) {
      throw new IllegalStateException("the benchmark conditions have no fast form");
    }
  }

  private static Map<String, Object> activation(GenericRecord event) {
    Map<String, Object> fields = CelValues.fields(event);
    Map<String, Object> activation = new HashMap<>(fields);
    activation.put("event", fields);
    return activation;
  }

  @Benchmark
  public Object fieldConditionPerEvent() throws Exception {
    GenericRecord event = events.get(next++ & (Inputs.CYCLE - 1));
    return fieldCondition.eval(activation(event));
  }

  @Benchmark
  public Object stageConditionPerEvent() throws Exception {
    int i = next++ & (Inputs.CYCLE - 1);
    Map<String, Object> activation = activation(events.get(i));
    CelValues.putStage(activation, "before", List.of(events.get((i + 1) & (Inputs.CYCLE - 1))), stageCondition.stageVariables());
    return stageCondition.eval(activation);
  }

  @Benchmark
  public Object evalOnly() throws Exception {
    return fieldCondition.eval(prepared);
  }

  @Benchmark
  public Object fastFieldConditionPerEvent() throws Exception {
    return fieldCondition.fast().test(events.get(next++ & (Inputs.CYCLE - 1)), List.of(), BEFORE);
  }

  @Benchmark
  public Object fastStageConditionPerEvent() throws Exception {
    int i = next++ & (Inputs.CYCLE - 1);
    return stageCondition.fast().test(events.get(i), previous.get(i), BEFORE);
  }
}
