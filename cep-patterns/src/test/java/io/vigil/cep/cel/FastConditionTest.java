package io.vigil.cep.cel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/** The fast evaluator's CEL semantics case by case, each checked against the interpreter too. */
class FastConditionTest {

  private static final Map<String, List<GenericRecord>> NO_STAGES = Map.of();

  private static GenericRecord reading() {
    GenericRecord r = new GenericData.Record(CelFixture.SCHEMA);
    r.put("i", 5);
    r.put("l", Long.MAX_VALUE);
    r.put("d", 20.5);
    r.put("f", 1.5f);
    r.put("s", "OK");
    r.put("b", true);
    r.put("e", new GenericData.EnumSymbol(CelFixture.SCHEMA.getField("e").schema(), "WARN"));
    return r;
  }

  /** The fast verdict, asserted equal to the interpreter's. */
  private static boolean eval(String condition, GenericRecord event, Map<String, List<GenericRecord>> stages)
      throws Exception {
    CompiledExpression c = CelFixture.ENV.compile(condition);
    assertThat(c.fast()).as("fast form of %s", condition).isNotNull();
    Boolean fast = CelFixture.fast(c, event, stages);
    assertThat(fast).as("fast verdict of %s", condition).isNotNull().isEqualTo(CelFixture.cel(c, event, stages));
    return fast;
  }

  private static boolean eval(String condition) throws Exception {
    return eval(condition, reading(), NO_STAGES);
  }

  @Test
  void falseAndErrorIsFalse() throws Exception {
    assertThat(eval("i == 4 && i / 0 == 1")).isFalse();
    assertThat(eval("i / 0 == 1 && i == 4")).isFalse();
  }

  @Test
  void trueOrErrorIsTrue() throws Exception {
    assertThat(eval("i / 0 == 1 || i == 5")).isTrue();
    assertThat(eval("i == 5 || i / 0 == 1")).isTrue();
  }

  @Test
  void errorOtherwisePropagatesThroughNegation() throws Exception {
    assertThat(eval("!(i / 0 == 1)")).isFalse();
    assertThat(eval("!(i / 0 == 1) || true")).isTrue();
    assertThat(eval("i == 5 && i / 0 == 1")).isFalse();
  }

  @Test
  void intOverflowIsAnError() throws Exception {
    assertThat(eval("l + 1 < 0")).isFalse();
    assertThat(eval("!(l + 1 < 0)")).isFalse();
    assertThat(eval("-(-l - 1) > 0 || true")).isTrue();
    assertThat(eval("!((-l - 1) / -1 > 0)")).isFalse();
  }

  @Test
  void divisionAndModuloByZeroAreErrorsButDoubleDivisionIsInfinite() throws Exception {
    assertThat(eval("!(i % 0 == 0)")).isFalse();
    assertThat(eval("d / 0.0 > 1e308")).isTrue();
  }

  @Test
  void nullFieldEqualsOnlyNullAndFailsInOrdering() throws Exception {
    GenericRecord r = reading();
    assertThat(eval("ni == null", r, NO_STAGES)).isTrue();
    assertThat(eval("ni != 1", r, NO_STAGES)).isTrue();
    assertThat(eval("ns == 'OK'", r, NO_STAGES)).isFalse();
    assertThat(eval("!(ni > 1)", r, NO_STAGES)).isFalse();
    assertThat(eval("ni > 1 || true", r, NO_STAGES)).isTrue();
    r.put("ni", 3L);
    assertThat(eval("ni > 1 && ni == 3", r, NO_STAGES)).isTrue();
  }

  @Test
  void intAndDoubleOrderAsCelDoesWithNanAboveEverything() throws Exception {
    GenericRecord r = reading();
    r.put("d", Double.NaN);
    assertThat(eval("d > 1", r, NO_STAGES)).isTrue();
    assertThat(eval("d > 1.0", r, NO_STAGES)).isFalse();
    assertThat(eval("-0.0 < 0", r, NO_STAGES)).isTrue();
    assertThat(eval("9007199254740993 > 9007199254740992.0", r, NO_STAGES)).isFalse();
  }

  @Test
  void equalityOfTwoNaNsIsLeftToTheInterpreter() throws Exception {
    GenericRecord r = reading();
    r.put("d", Double.NaN);
    CompiledExpression c = CelFixture.ENV.compile("d == event.d");
    assertThat(CelFixture.fast(c, r, NO_STAGES)).isNull();
    assertThat(CelFixture.cel(c, r, NO_STAGES)).isTrue();
  }

  @Test
  void firstOfAnEmptyStageIsAnError() throws Exception {
    Map<String, List<GenericRecord>> empty = Map.of("p", List.of());
    assertThat(eval("first(p).i == 5", reading(), empty)).isFalse();
    assertThat(eval("count(p) == 0 || first(p).i == 5", reading(), empty)).isTrue();
    assertThat(eval("!(max(p.d) > 0.0)", reading(), empty)).isFalse();
  }

  @Test
  void stageFunctionsReadTheMatchedEvents() throws Exception {
    GenericRecord older = reading();
    older.put("d", 5.0);
    older.put("i", 1);
    Map<String, List<GenericRecord>> stages = Map.of("p", List.of(older, reading()));
    assertThat(eval("d >= first(p).d + 10.0 && last(p).i == 5", reading(), stages)).isTrue();
    assertThat(eval("count(p) == 2 && p.size() == 2 && sum(p.i) == 6 && min(p.d) == 5.0", reading(), stages)).isTrue();
    assertThat(eval("avg(p.i) == 3.0 && max(p.i) == 5", reading(), stages)).isTrue();
  }

  @Test
  void enumsAndStringsCompareAsStrings() throws Exception {
    assertThat(eval("e == 'WARN' && s == 'OK' && s + '!' == 'OK!'")).isTrue();
    assertThat(eval("d > 20.0 && e != 'OK'")).isTrue();
  }

  @Test
  void expressionsOutsideTheSubsetHaveNoFastForm() {
    for (String condition : List.of("has(event.ni)", "p.exists(x, x.i > 0)", "int(d) > 0", "nb", "nb && true")) {
      assertThat(CelFixture.ENV.compile(condition).fast()).as(condition).isNull();
    }
  }

  @Test
  void aFieldOfAnUnexpectedRuntimeClassIsLeftToTheInterpreter() throws Exception {
    GenericRecord r = reading();
    r.put("l", java.time.Instant.EPOCH);
    assertThat(CelFixture.fast(CelFixture.ENV.compile("l > 0"), r, NO_STAGES)).isNull();
  }
}
