package io.vigil.cep.cel;

import dev.cel.common.types.SimpleType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericRecord;

/**
 * A reading-like test schema with every field type conditions can use (nullable ones too), an
 * environment over it with stages {@code p} and {@code q}, and the two ways to evaluate a
 * condition: CEL's interpreter bound as {@link StageCondition} binds it, and the fast evaluator.
 */
final class CelFixture {

  static final Schema SCHEMA =
      SchemaBuilder.record("Reading")
          .namespace("io.vigil.test")
          .fields()
          .requiredInt("i")
          .requiredLong("l")
          .requiredDouble("d")
          .requiredFloat("f")
          .requiredString("s")
          .requiredBoolean("b")
          .name("e").type().enumeration("Level").symbols("OK", "WARN", "FAULT").noDefault()
          .optionalLong("ni")
          .optionalDouble("nd")
          .optionalString("ns")
          .optionalBoolean("nb")
          .endRecord();

  static final CelEnvironment ENV =
      new CelEnvironment(
          SCHEMA,
          List.of(new CelEnvironment.StageType("p", SCHEMA), new CelEnvironment.StageType("q", SCHEMA)),
          SimpleType.BOOL);

  /** Stages as plain lists of events. */
  static final StageAccess<Map<String, List<GenericRecord>>> LISTS =
      new StageAccess<>() {
        @Override
        public Iterable<GenericRecord> events(Map<String, List<GenericRecord>> context, String stage) {
          return context.getOrDefault(stage, List.of());
        }

        @Override
        public GenericRecord event(GenericRecord element) {
          return element;
        }
      };

  private CelFixture() {}

  /** The interpreter's verdict as StageCondition takes it: only TRUE holds; any failure is false. */
  static boolean cel(CompiledExpression c, GenericRecord event, Map<String, List<GenericRecord>> stages) {
    List<String> names = new ArrayList<>();
    List<Object> values = new ArrayList<>();
    for (String variable : c.stageVariables()) {
      int dot = variable.indexOf('.');
      List<GenericRecord> events = stages.getOrDefault(dot < 0 ? variable : variable.substring(0, dot), List.of());
      names.add(variable);
      values.add(dot < 0 ? CelValues.stageList(events) : CelValues.projection(events, variable.substring(dot + 1)));
    }
    try {
      return Boolean.TRUE.equals(
          c.eval(
              name -> {
                int k = names.indexOf(name);
                if (k >= 0) {
                  return Optional.of(values.get(k));
                }
                return Optional.ofNullable("event".equals(name) ? CelValues.fields(event) : CelValues.field(event, name));
              }));
    } catch (Exception e) {
      return false;
    }
  }

  /** The fast evaluator's verdict, or null when it has none (no fast form, or left to CEL). */
  static Boolean fast(CompiledExpression c, GenericRecord event, Map<String, List<GenericRecord>> stages)
      throws Exception {
    return c.fast() == null ? null : c.fast().test(event, stages, LISTS);
  }
}
