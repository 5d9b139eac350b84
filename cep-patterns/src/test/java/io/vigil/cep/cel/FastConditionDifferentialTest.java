package io.vigil.cep.cel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.junit.jupiter.api.Test;

/**
 * Random conditions, inside and outside the fast subset, over random events with nulls, NaNs,
 * ints near overflow, zero divisors and empty stages: the fast evaluator must agree with CEL's
 * interpreter on every one. The seed is {@code -Dvigil.celfast.seed}, the count {@code
 * -Dvigil.celfast.cases}.
 */
class FastConditionDifferentialTest {

  private static final long[] LONGS = {
    0, 1, -1, 2, 3, 7, -10, 100, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, Long.MIN_VALUE + 1,
    9007199254740993L, 4611686018427387904L, Integer.MAX_VALUE, Integer.MIN_VALUE
  };
  private static final double[] DOUBLES = {
    0.0, -0.0, 1.5, -2.0, 10.0, 20.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
    1e300, 9007199254740992.0, 9.223372036854775807E18, 3.0
  };
  private static final String[] STRINGS = {"", "OK", "WARN", "a", "b", "ab", "\uD83D\uDE00", "\uFFFF"};

  private final Random random = new Random(Long.getLong("vigil.celfast.seed", 20261127L));

  @Test
  void fastEvaluatorAgreesWithTheInterpreter() throws Exception {
    int cases = Integer.getInteger("vigil.celfast.cases", 4000);
    int compiled = 0;
    int withFastForm = 0;
    int evaluations = 0;
    int decidedFast = 0;
    int trueResults = 0;
    for (int n = 0; n < cases; n++) {
      String text = bool(3);
      CompiledExpression c;
      try {
        c = CelFixture.ENV.compile(text);
      } catch (IllegalArgumentException typeError) {
        continue;
      }
      compiled++;
      if (c.fast() != null) {
        withFastForm++;
      }
      for (int k = 0; k < 6; k++) {
        GenericRecord event = event();
        Map<String, List<GenericRecord>> stages = Map.of("p", events(), "q", events());
        boolean expected = CelFixture.cel(c, event, stages);
        Boolean actual = CelFixture.fast(c, event, stages);
        evaluations++;
        if (actual != null) {
          decidedFast++;
          assertThat(actual).as("%s over %s, stages %s", text, event, stages).isEqualTo(expected);
        }
        if (expected) {
          trueResults++;
        }
      }
    }
    System.out.printf(
        "celfast differential: %d expressions, %d compiled, %d with a fast form; %d evaluations, %d decided"
            + " by the fast path, %d true%n",
        cases, compiled, withFastForm, evaluations, decidedFast, trueResults);
    assertThat(compiled).isGreaterThan(cases * 3 / 4);
    assertThat(withFastForm).isGreaterThan(compiled * 6 / 10).isLessThan(compiled);
    assertThat(decidedFast).isGreaterThan(evaluations / 2);
    assertThat(trueResults).isGreaterThan(evaluations / 20);
  }

  private GenericRecord event() {
    GenericRecord r = new GenericData.Record(CelFixture.SCHEMA);
    r.put("i", (int) pick(LONGS));
    r.put("l", pick(LONGS));
    r.put("d", pickDouble());
    r.put("f", (float) pickDouble());
    r.put("s", random.nextBoolean() ? pick(STRINGS) : new Utf8(pick(STRINGS)));
    r.put("b", random.nextBoolean());
    r.put("e", new GenericData.EnumSymbol(CelFixture.SCHEMA.getField("e").schema(), pick(new String[] {"OK", "WARN", "FAULT"})));
    r.put("ni", random.nextInt(3) == 0 ? null : pick(LONGS));
    r.put("nd", random.nextInt(3) == 0 ? null : pickDouble());
    r.put("ns", random.nextInt(3) == 0 ? null : pick(STRINGS));
    r.put("nb", random.nextInt(3) == 0 ? null : random.nextBoolean());
    return r;
  }

  private List<GenericRecord> events() {
    int size = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(3);
    List<GenericRecord> events = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      events.add(event());
    }
    return events;
  }

  private String bool(int depth) {
    int choice = random.nextInt(depth <= 0 ? 6 : 16);
    switch (choice) {
      case 0:
        return random.nextBoolean() ? "true" : "false";
      case 1:
        return random.nextBoolean() ? "b" : "first(p).b";
      case 2:
      case 3:
        return num(depth - 1) + " " + pick(new String[] {"<", "<=", ">", ">="}) + " " + num(depth - 1);
      case 4:
        return sameKindEquality(depth - 1);
      case 5:
        return pick(new String[] {"ni", "nd", "ns", "nb", "last(q).ni", "first(p).ns"})
            + pick(new String[] {" == null", " != null"});
      case 6:
      case 7:
        return "(" + bool(depth - 1) + ") && (" + bool(depth - 1) + ")";
      case 8:
      case 9:
        return "(" + bool(depth - 1) + ") || (" + bool(depth - 1) + ")";
      case 10:
        return "!(" + bool(depth - 1) + ")";
      case 11:
        return "(" + bool(depth - 1) + ") ? (" + bool(depth - 1) + ") : (" + bool(depth - 1) + ")";
      case 12:
        return str(depth - 1) + " " + pick(new String[] {"==", "!=", "<", ">="}) + " " + str(depth - 1);
      case 13:
        // outside the subset: the interpreter decides
        return pick(
            new String[] {
              "has(event.ni)", "s.startsWith('a')", "int(d) > 0", "p.exists(x, x.l > 0)", "size(s) > 1",
              "l in [1, 2, 3]", "nb", "nb == true", "string(i) == '1'", "uint(1) < uint(2)"
            });
      case 14:
        return "(" + num(depth - 1) + ") == (" + num(depth - 1) + ")";
      default:
        return "nb == " + (random.nextBoolean() ? "true" : "null");
    }
  }

  private String sameKindEquality(int depth) {
    switch (random.nextInt(4)) {
      case 0:
        return intExpr(depth) + pick(new String[] {" == ", " != "}) + intExpr(depth);
      case 1:
        return doubleExpr(depth) + pick(new String[] {" == ", " != "}) + doubleExpr(depth);
      case 2:
        return str(depth) + pick(new String[] {" == ", " != "}) + str(depth);
      default:
        return "b == first(p).b";
    }
  }

  private String num(int depth) {
    return random.nextBoolean() ? intExpr(depth) : doubleExpr(depth);
  }

  private String intExpr(int depth) {
    int choice = random.nextInt(depth <= 0 ? 5 : 9);
    switch (choice) {
      case 0:
        return Long.toString(pick(new long[] {0, 1, 2, 3, 10, 100, 9223372036854775807L}));
      case 1:
        return pick(new String[] {"i", "l", "ni", "event.l", "event.ni"});
      case 2:
        return pick(new String[] {"first(p).l", "last(p).i", "last(q).ni", "first(q).i"});
      case 3:
        return pick(new String[] {"count(p)", "size(q)", "p.size()", "count(q.l)", "size(p.ni)"});
      case 4:
        return pick(new String[] {"sum(p.l)", "min(q.i)", "max(p.l)", "sum(q.i)", "sum(p.ni)"});
      case 5:
      case 6:
        return "(" + intExpr(depth - 1) + " " + pick(new String[] {"+", "-", "*", "/", "%"}) + " " + intExpr(depth - 1) + ")";
      case 7:
        return "-" + intExpr(depth - 1);
      default:
        return "(" + bool(depth - 1) + " ? " + intExpr(depth - 1) + " : " + intExpr(depth - 1) + ")";
    }
  }

  private String doubleExpr(int depth) {
    int choice = random.nextInt(depth <= 0 ? 5 : 9);
    switch (choice) {
      case 0:
        return pick(new String[] {"0.0", "1.5", "10.0", "-2.0", "1e300", "9007199254740992.0"});
      case 1:
        return pick(new String[] {"d", "f", "nd", "event.d", "event.nd"});
      case 2:
        return pick(new String[] {"first(p).d", "last(p).f", "last(q).nd", "first(q).d"});
      case 3:
        return pick(new String[] {"avg(p.l)", "avg(q.d)", "sum(p.d)", "min(q.f)", "max(p.d)"});
      case 4:
        return pick(new String[] {"double(i)", "(d / 0.0)", "(0.0 / 0.0)"});
      case 5:
      case 6:
        return "(" + doubleExpr(depth - 1) + " " + pick(new String[] {"+", "-", "*", "/"}) + " " + doubleExpr(depth - 1) + ")";
      case 7:
        return "-" + doubleExpr(depth - 1);
      default:
        return "(" + bool(depth - 1) + " ? " + doubleExpr(depth - 1) + " : " + doubleExpr(depth - 1) + ")";
    }
  }

  private String str(int depth) {
    int choice = random.nextInt(depth <= 0 ? 3 : 4);
    switch (choice) {
      case 0:
        return "'" + pick(STRINGS) + "'";
      case 1:
        return pick(new String[] {"s", "e", "ns", "event.s", "first(p).e", "last(q).s", "last(p).ns"});
      case 2:
        return "(s + '" + pick(STRINGS) + "')";
      default:
        return "(" + bool(depth - 1) + " ? " + str(depth - 1) + " : " + str(depth - 1) + ")";
    }
  }

  private double pickDouble() {
    return DOUBLES[random.nextInt(DOUBLES.length)];
  }

  private long pick(long[] values) {
    return values[random.nextInt(values.length)];
  }

  private String pick(String[] values) {
    return values[random.nextInt(values.length)];
  }
}
