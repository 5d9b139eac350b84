package io.vigil.cep.cel;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.SourceRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
import org.junit.jupiter.api.Test;

/** StageCondition over envelopes and a partial match, on the fast path and on CEL's. */
class StageConditionTest {

  private static final Schema ENVELOPE = Envelopes.schema(CelFixture.SCHEMA);

  private static GenericRecord reading(double d) {
    GenericRecord r = new GenericData.Record(CelFixture.SCHEMA);
    r.put("i", 1);
    r.put("l", 2L);
    r.put("d", d);
    r.put("f", 0f);
    r.put("s", "OK");
    r.put("b", false);
    r.put("e", new GenericData.EnumSymbol(CelFixture.SCHEMA.getField("e").schema(), "OK"));
    return r;
  }

  private static GenericRecord envelope(GenericRecord event) {
    return Envelopes.valid(ENVELOPE, new SourceRef("test", 0, 0L, null), new byte[0], "k", 0L, event);
  }

  /** A partial match whose stage {@code p} holds these events' envelopes. */
  private static IterativeCondition.Context<GenericRecord> matched(GenericRecord... events) {
    List<GenericRecord> envelopes = new ArrayList<>();
    for (GenericRecord e : events) {
      envelopes.add(envelope(e));
    }
    Map<String, List<GenericRecord>> stages = Map.of("p", envelopes);
    return new IterativeCondition.Context<>() {
      @Override
      public Iterable<GenericRecord> getEventsForPattern(String name) {
        return stages.getOrDefault(name, List.of());
      }

      @Override
      public long timestamp() {
        return 0;
      }

      @Override
      public long currentProcessingTime() {
        return 0;
      }
    };
  }

  private static boolean test(String condition, GenericRecord event, IterativeCondition.Context<GenericRecord> ctx)
      throws Exception {
    return new StageCondition("Reading", CelFixture.ENV.compile(condition)).filter(envelope(event), ctx);
  }

  @Test
  void fastPathReadsTheStagesEnvelopes() throws Exception {
    assertThat(CelFixture.ENV.compile("d >= last(p).d + 10.0").fast()).isNotNull();
    assertThat(test("d >= last(p).d + 10.0", reading(31), matched(reading(30), reading(20)))).isTrue();
    assertThat(test("d >= last(p).d + 10.0", reading(29), matched(reading(30), reading(20)))).isFalse();
  }

  @Test
  void firstOfAnEmptyStageIsFalse() throws Exception {
    assertThat(test("d >= first(p).d", reading(31), matched())).isFalse();
  }

  @Test
  void conditionOutsideTheSubsetIsEvaluatedByCel() throws Exception {
    assertThat(CelFixture.ENV.compile("p.exists(x, x.d > 25.0)").fast()).isNull();
    assertThat(test("p.exists(x, x.d > 25.0)", reading(0), matched(reading(30)))).isTrue();
    assertThat(test("p.exists(x, x.d > 25.0)", reading(0), matched(reading(20)))).isFalse();
  }

  @Test
  void undecidedFastEvaluationFallsBackToCel() throws Exception {
    GenericRecord nan = reading(Double.NaN);
    // the same boxed NaN on both sides: equal for CEL, which checks identity first
    assertThat(test("d == event.d", nan, matched())).isTrue();
  }

  @Test
  void eventOfAnotherTypeNeverMatches() throws Exception {
    GenericRecord other =
        new GenericData.Record(
            SchemaBuilder.record("Other").fields().requiredDouble("d").endRecord());
    other.put("d", 1.0);
    CompiledExpression c = CelFixture.ENV.compile("true || d > 0.0");
    assertThat(new StageCondition("Reading", c).filter(envelope(other), matched())).isFalse();
  }
}
