package io.vigil.cep.cel;

import java.util.Iterator;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;

/**
 * A node of a {@link FastCondition}'s tree: one type-checked CEL sub-expression, evaluated over
 * the current event and the partial match's stages with CEL's semantics.
 *
 * <p>{@link #value} is the CEL value ({@link Long}, {@link Double}, {@link String}, {@link
 * Boolean}, or Java null for CEL's null). The typed accessors give the same value unboxed and throw
 * {@link FastError#ERROR} where it is null, as CEL has no overload of an operator for null; nodes
 * of a known non-null type override them so that the common path allocates nothing. A node throws
 * {@link FastError#ERROR} for a CEL error and {@link FastError#FALLBACK} where only the CEL
 * interpreter can decide.
 */
abstract class FastNode {

  /** A node's CEL type without nullability. */
  enum Kind {
    BOOL,
    INT,
    DOUBLE,
    STRING,
    NULL
  }

  final Kind kind;
  /** Whether the value may be CEL's null (a nullable Avro field). */
  final boolean nullable;

  FastNode(Kind kind, boolean nullable) {
    this.kind = kind;
    this.nullable = nullable;
  }

  abstract Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception;

  boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
    if (value(ev, cx, sa) instanceof Boolean b) {
      return b;
    }
    throw FastError.ERROR;
  }

  long int64(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
    if (value(ev, cx, sa) instanceof Long l) {
      return l;
    }
    throw FastError.ERROR;
  }

  double dbl(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
    if (value(ev, cx, sa) instanceof Double d) {
      return d;
    }
    throw FastError.ERROR;
  }

  String str(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
    if (value(ev, cx, sa) instanceof String s) {
      return s;
    }
    throw FastError.ERROR;
  }

  // ---- constants

  static final class Const extends FastNode {
    private final Object value;

    Const(Kind kind, Object value) {
      super(kind, false);
      this.value = value;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) {
      return value;
    }
  }

  static final class BoolConst extends FastNode {
    private final boolean value;

    BoolConst(boolean value) {
      super(Kind.BOOL, false);
      this.value = value;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) {
      return value;
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) {
      return value;
    }
  }

  static final class IntConst extends FastNode {
    private final long value;

    IntConst(long value) {
      super(Kind.INT, false);
      this.value = value;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) {
      return value;
    }

    @Override
    long int64(GenericRecord ev, Object cx, StageAccess<Object> sa) {
      return value;
    }
  }

  static final class DoubleConst extends FastNode {
    private final double value;

    DoubleConst(double value) {
      super(Kind.DOUBLE, false);
      this.value = value;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) {
      return value;
    }

    @Override
    double dbl(GenericRecord ev, Object cx, StageAccess<Object> sa) {
      return value;
    }
  }

  // ---- records and their fields

  /** Where a field is read from: the current event, or the first or last event of a stage. */
  abstract static class Source {
    abstract GenericRecord record(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception;
  }

  static final Source CURRENT =
      new Source() {
        @Override
        GenericRecord record(GenericRecord ev, Object cx, StageAccess<Object> sa) {
          return ev;
        }
      };

  static final class FirstOf extends Source {
    private final String stage;

    FirstOf(String stage) {
      this.stage = stage;
    }

    @Override
    GenericRecord record(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      Iterator<? extends GenericRecord> events = sa.events(cx, stage).iterator();
      if (!events.hasNext()) {
        throw FastError.ERROR;
      }
      return sa.event(events.next());
    }
  }

  static final class LastOf extends Source {
    private final String stage;

    LastOf(String stage) {
      this.stage = stage;
    }

    @Override
    GenericRecord record(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      GenericRecord last = null;
      for (GenericRecord e : sa.events(cx, stage)) {
        last = e;
      }
      if (last == null) {
        throw FastError.ERROR;
      }
      return sa.event(last);
    }
  }

  /**
   * A field's position in a record, remembered for the last schema seen (events of one type
   * nearly always share one schema object). The schema and position are one object so that a
   * racing reader never pairs one schema with another's position.
   */
  static final class FieldRef {
    private record Slot(Schema schema, int pos) {}

    final String name;
    private Slot slot;

    FieldRef(String name) {
      this.name = name;
    }

    Object raw(GenericRecord record) throws FastError {
      Schema schema = record.getSchema();
      Slot s = slot;
      if (s == null || s.schema() != schema) {
        Schema.Field f = schema.getField(name);
        if (f == null || CelEnvironment.celType(f.schema()).isEmpty()) {
          throw FastError.FALLBACK;
        }
        s = new Slot(schema, f.pos());
        slot = s;
      }
      return record.get(s.pos());
    }
  }

  /**
   * An Avro value as the CEL value {@link CelValues#value} makes of it, checked against the type
   * the expression was compiled for; anything else (a logical-type object, null in a field typed
   * non-null) is left to CEL.
   */
  static Object convert(Object raw, Kind kind, boolean nullable) throws FastError {
    if (raw == null) {
      if (nullable) {
        return null;
      }
      throw FastError.FALLBACK;
    }
    switch (kind) {
      case INT:
        if (raw instanceof Long) {
          return raw;
        }
        if (raw instanceof Integer i) {
          return i.longValue();
        }
        break;
      case DOUBLE:
        if (raw instanceof Double) {
          return raw;
        }
        if (raw instanceof Float f) {
          return f.doubleValue();
        }
        break;
      case STRING:
        if (raw instanceof CharSequence || raw instanceof GenericEnumSymbol<?>) {
          return raw.toString();
        }
        break;
      case BOOL:
        if (raw instanceof Boolean) {
          return raw;
        }
        break;
      default:
        break;
    }
    throw FastError.FALLBACK;
  }

  static final class Field extends FastNode {
    private final Source source;
    private final FieldRef field;

    Field(Source source, String name, Kind kind, boolean nullable) {
      super(kind, nullable);
      this.source = source;
      this.field = new FieldRef(name);
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return convert(field.raw(source.record(ev, cx, sa)), kind, nullable);
    }

    @Override
    double dbl(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      Object raw = field.raw(source.record(ev, cx, sa));
      if (raw instanceof Double d) {
        return d;
      }
      if (raw == null && nullable) {
        throw FastError.ERROR;
      }
      return (Double) convert(raw, Kind.DOUBLE, false);
    }

    @Override
    long int64(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      Object raw = field.raw(source.record(ev, cx, sa));
      if (raw instanceof Long l) {
        return l;
      }
      if (raw == null && nullable) {
        throw FastError.ERROR;
      }
      return (Long) convert(raw, Kind.INT, false);
    }
  }

  // ---- stages as lists

  static final class Count extends FastNode {
    private final String stage;

    Count(String stage) {
      super(Kind.INT, false);
      this.stage = stage;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return int64(ev, cx, sa);
    }

    @Override
    long int64(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      long n = 0;
      for (GenericRecord ignored : sa.events(cx, stage)) {
        n++;
      }
      return n;
    }
  }

  /** The aggregate functions of {@link CelEnvironment}, with their exact arithmetic. */
  enum AggregateOp {
    SUM,
    AVG,
    MIN,
    MAX
  }

  static final class Aggregate extends FastNode {
    private final String stage;
    private final FieldRef field;
    private final AggregateOp op;
    private final Kind element;

    Aggregate(String stage, String field, AggregateOp op, Kind element, Kind result) {
      super(result, false);
      this.stage = stage;
      this.field = new FieldRef(field);
      this.op = op;
      this.element = element;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      long sumInt = 0;
      double sumDouble = 0;
      long n = 0;
      Object best = null;
      for (GenericRecord e : sa.events(cx, stage)) {
        Object v = convert(field.raw(sa.event(e)), element, false);
        double d = ((Number) v).doubleValue();
        if (element == Kind.INT) {
          sumInt += (Long) v;
        }
        sumDouble += d;
        if (best == null) {
          best = v;
        } else if (op == AggregateOp.MIN && Double.compare(d, ((Number) best).doubleValue()) < 0
            || op == AggregateOp.MAX && Double.compare(d, ((Number) best).doubleValue()) > 0) {
          best = v;
        }
        n++;
      }
      switch (op) {
        case SUM:
          return element == Kind.INT ? (Object) sumInt : (Object) sumDouble;
        case AVG:
          if (n == 0) {
            throw FastError.ERROR;
          }
          return sumDouble / n;
        default:
          if (best == null) {
            throw FastError.ERROR;
          }
          return best;
      }
    }
  }

  // ---- arithmetic

  enum ArithOp {
    ADD,
    SUB,
    MUL,
    DIV,
    MOD
  }

  static final class IntArith extends FastNode {
    private final ArithOp op;
    private final FastNode left;
    private final FastNode right;

    IntArith(ArithOp op, FastNode left, FastNode right) {
      super(Kind.INT, false);
      this.op = op;
      this.left = left;
      this.right = right;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return int64(ev, cx, sa);
    }

    @Override
    long int64(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      long a = left.int64(ev, cx, sa);
      long b = right.int64(ev, cx, sa);
      try {
        switch (op) {
          case ADD:
            return Math.addExact(a, b);
          case SUB:
            return Math.subtractExact(a, b);
          case MUL:
            return Math.multiplyExact(a, b);
          case DIV:
            if (b == 0 || a == Long.MIN_VALUE && b == -1) {
              throw FastError.ERROR;
            }
            return a / b;
          default:
            if (b == 0) {
              throw FastError.ERROR;
            }
            return a % b;
        }
      } catch (ArithmeticException overflow) {
        throw FastError.ERROR;
      }
    }
  }

  static final class DoubleArith extends FastNode {
    private final ArithOp op;
    private final FastNode left;
    private final FastNode right;

    DoubleArith(ArithOp op, FastNode left, FastNode right) {
      super(Kind.DOUBLE, false);
      this.op = op;
      this.left = left;
      this.right = right;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return dbl(ev, cx, sa);
    }

    @Override
    double dbl(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      double a = left.dbl(ev, cx, sa);
      double b = right.dbl(ev, cx, sa);
      switch (op) {
        case ADD:
          return a + b;
        case SUB:
          return a - b;
        case MUL:
          return a * b;
        default:
          return a / b;
      }
    }
  }

  static final class Concat extends FastNode {
    private final FastNode left;
    private final FastNode right;

    Concat(FastNode left, FastNode right) {
      super(Kind.STRING, false);
      this.left = left;
      this.right = right;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      String a = left.str(ev, cx, sa);
      return a.concat(right.str(ev, cx, sa));
    }
  }

  static final class Negate extends FastNode {
    private final FastNode operand;

    Negate(FastNode operand) {
      super(operand.kind, false);
      this.operand = operand;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return kind == Kind.INT ? (Object) int64(ev, cx, sa) : (Object) dbl(ev, cx, sa);
    }

    @Override
    long int64(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      long a = operand.int64(ev, cx, sa);
      if (a == Long.MIN_VALUE) {
        throw FastError.ERROR;
      }
      return -a;
    }

    @Override
    double dbl(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return -operand.dbl(ev, cx, sa);
    }
  }

  // ---- comparisons

  enum CmpOp {
    LT,
    LE,
    GT,
    GE
  }

  /** A boolean node: its value is its {@link #bool}, boxed to the shared instances. */
  abstract static class Predicate extends FastNode {
    Predicate() {
      super(Kind.BOOL, false);
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return bool(ev, cx, sa);
    }

    @Override
    abstract boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception;
  }

  static boolean holds(CmpOp op, int c) {
    switch (op) {
      case LT:
        return c < 0;
      case LE:
        return c <= 0;
      case GT:
        return c > 0;
      default:
        return c >= 0;
    }
  }

  static final class IntCmp extends Predicate {
    private final CmpOp op;
    private final FastNode left;
    private final FastNode right;

    IntCmp(CmpOp op, FastNode left, FastNode right) {
      this.op = op;
      this.left = left;
      this.right = right;
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return holds(op, Long.compare(left.int64(ev, cx, sa), right.int64(ev, cx, sa)));
    }
  }

  /** Two doubles: IEEE comparison, false whenever a side is NaN, as CEL compares them. */
  static final class DoubleCmp extends Predicate {
    private final CmpOp op;
    private final FastNode left;
    private final FastNode right;

    DoubleCmp(CmpOp op, FastNode left, FastNode right) {
      this.op = op;
      this.left = left;
      this.right = right;
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      double a = left.dbl(ev, cx, sa);
      double b = right.dbl(ev, cx, sa);
      switch (op) {
        case LT:
          return a < b;
        case LE:
          return a <= b;
        case GT:
          return a > b;
        default:
          return a >= b;
      }
    }
  }

  /**
   * An int and a double: CEL converts the int to double and orders with {@link Double#compare}
   * (NaN above everything, -0.0 below 0.0), unlike its double-double comparison.
   */
  static final class MixedCmp extends Predicate {
    private final CmpOp op;
    private final FastNode left;
    private final FastNode right;

    MixedCmp(CmpOp op, FastNode left, FastNode right) {
      this.op = op;
      this.left = left;
      this.right = right;
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      double a = left.kind == Kind.INT ? (double) left.int64(ev, cx, sa) : left.dbl(ev, cx, sa);
      double b = right.kind == Kind.INT ? (double) right.int64(ev, cx, sa) : right.dbl(ev, cx, sa);
      return holds(op, Double.compare(a, b));
    }
  }

  /** Strings (by UTF-16 unit, as {@link String#compareTo}) or bools (false before true). */
  static final class ObjectCmp extends Predicate {
    private final CmpOp op;
    private final FastNode left;
    private final FastNode right;

    ObjectCmp(CmpOp op, FastNode left, FastNode right) {
      this.op = op;
      this.left = left;
      this.right = right;
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      if (left.kind == Kind.STRING) {
        return holds(op, left.str(ev, cx, sa).compareTo(right.str(ev, cx, sa)));
      }
      return holds(op, Boolean.compare(left.bool(ev, cx, sa), right.bool(ev, cx, sa)));
    }
  }

  /**
   * {@code ==} or {@code !=}. CEL's null equals only null, without error. Two NaNs are equal in
   * CEL exactly when they are the same boxed object (it checks identity first), which only the
   * interpreter sees, so that case falls back.
   */
  static final class Equals extends Predicate {
    private final boolean negated;
    private final FastNode left;
    private final FastNode right;
    private final boolean typed;

    Equals(boolean negated, FastNode left, FastNode right) {
      this.negated = negated;
      this.left = left;
      this.right = right;
      this.typed = left.kind == right.kind && !left.nullable && !right.nullable;
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return negated != (typed ? typedEquals(ev, cx, sa) : valueEquals(ev, cx, sa));
    }

    private boolean typedEquals(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      switch (left.kind) {
        case INT:
          return left.int64(ev, cx, sa) == right.int64(ev, cx, sa);
        case DOUBLE:
          return doubleEquals(left.dbl(ev, cx, sa), right.dbl(ev, cx, sa));
        case BOOL:
          return left.bool(ev, cx, sa) == right.bool(ev, cx, sa);
        case STRING:
          return left.str(ev, cx, sa).equals(right.str(ev, cx, sa));
        default:
          return true;
      }
    }

    private boolean valueEquals(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      Object a = left.value(ev, cx, sa);
      Object b = right.value(ev, cx, sa);
      if (a == null || b == null) {
        return a == b;
      }
      if (a instanceof Double x && b instanceof Double y) {
        return doubleEquals(x, y);
      }
      return a.equals(b);
    }

    private static boolean doubleEquals(double a, double b) throws FastError {
      if (a == b) {
        return true;
      }
      if (Double.isNaN(a) && Double.isNaN(b)) {
        throw FastError.FALLBACK;
      }
      return false;
    }
  }

  // ---- logic

  /**
   * {@code &&} and {@code ||} with CEL's commutative error absorption: the absorbing value (false
   * for {@code &&}, true for {@code ||}) on either side decides even when the other side fails;
   * otherwise a failure propagates, and an undecided side leaves the result undecided.
   */
  static final class Logic extends Predicate {
    private final boolean or;
    private final FastNode left;
    private final FastNode right;

    Logic(boolean or, FastNode left, FastNode right) {
      this.or = or;
      this.left = left;
      this.right = right;
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      boolean a;
      try {
        a = left.bool(ev, cx, sa);
      } catch (FastError leftFailure) {
        boolean b;
        try {
          b = right.bool(ev, cx, sa);
        } catch (FastError rightFailure) {
          throw leftFailure == FastError.FALLBACK ? leftFailure : rightFailure;
        }
        if (b == or) {
          return or;
        }
        throw leftFailure;
      }
      if (a == or) {
        return or;
      }
      return right.bool(ev, cx, sa);
    }
  }

  static final class Not extends Predicate {
    private final FastNode operand;

    Not(FastNode operand) {
      this.operand = operand;
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return !operand.bool(ev, cx, sa);
    }
  }

  static final class Conditional extends FastNode {
    private final FastNode condition;
    private final FastNode then;
    private final FastNode otherwise;

    Conditional(Kind kind, boolean nullable, FastNode condition, FastNode then, FastNode otherwise) {
      super(kind, nullable);
      this.condition = condition;
      this.then = then;
      this.otherwise = otherwise;
    }

    private FastNode branch(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return condition.bool(ev, cx, sa) ? then : otherwise;
    }

    @Override
    Object value(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return branch(ev, cx, sa).value(ev, cx, sa);
    }

    @Override
    boolean bool(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return branch(ev, cx, sa).bool(ev, cx, sa);
    }

    @Override
    long int64(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return branch(ev, cx, sa).int64(ev, cx, sa);
    }

    @Override
    double dbl(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return branch(ev, cx, sa).dbl(ev, cx, sa);
    }

    @Override
    String str(GenericRecord ev, Object cx, StageAccess<Object> sa) throws Exception {
      return branch(ev, cx, sa).str(ev, cx, sa);
    }
  }
}
