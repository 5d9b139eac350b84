package io.vigil.cep.cel;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.Operator;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.ast.CelReference;
import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.NullableType;
import dev.cel.common.types.SimpleType;
import io.vigil.cep.cel.FastNode.Kind;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Builds a {@link FastNode} tree from a type-checked CEL expression, or nothing when any node is
 * outside the subset the nodes implement exactly (see {@link FastCondition}). It reads only the
 * checker's types and references, so an expression means here what it means to the interpreter.
 */
final class FastCompiler {

  /** Thrown when a node is outside the subset; the expression then keeps the interpreter. */
  private static final class Unsupported extends Exception {
    private static final long serialVersionUID = 1L;

    Unsupported() {
      super(null, null, false, false);
    }
  }

  private static final Map<String, FastNode.CmpOp> ORDERINGS =
      Map.of(
          Operator.LESS.getFunction(), FastNode.CmpOp.LT,
          Operator.LESS_EQUALS.getFunction(), FastNode.CmpOp.LE,
          Operator.GREATER.getFunction(), FastNode.CmpOp.GT,
          Operator.GREATER_EQUALS.getFunction(), FastNode.CmpOp.GE);
  private static final Map<String, FastNode.ArithOp> ARITHMETIC =
      Map.of(
          Operator.ADD.getFunction(), FastNode.ArithOp.ADD,
          Operator.SUBTRACT.getFunction(), FastNode.ArithOp.SUB,
          Operator.MULTIPLY.getFunction(), FastNode.ArithOp.MUL,
          Operator.DIVIDE.getFunction(), FastNode.ArithOp.DIV,
          Operator.MODULO.getFunction(), FastNode.ArithOp.MOD);
  private static final Map<String, FastNode.AggregateOp> AGGREGATES =
      Map.of(
          "sum", FastNode.AggregateOp.SUM,
          "avg", FastNode.AggregateOp.AVG,
          "min", FastNode.AggregateOp.MIN,
          "max", FastNode.AggregateOp.MAX);

  private final CelAbstractSyntaxTree ast;
  private final Set<String> stages;
  private final Set<String> stageVariables;

  private FastCompiler(CelAbstractSyntaxTree ast, Set<String> stages, Set<String> stageVariables) {
    this.ast = ast;
    this.stages = stages;
    this.stageVariables = stageVariables;
  }

  /**
   * The tree for a boolean expression, or empty when it is outside the subset.
   *
   * @param stages the stage variables' names ({@code small})
   * @param stageVariables those and their field projections ({@code small.amount})
   */
  static Optional<FastNode> compile(CelAbstractSyntaxTree ast, Set<String> stages, Set<String> stageVariables) {
    try {
      FastNode root = new FastCompiler(ast, stages, stageVariables).node(ast.getExpr());
      return root.kind == Kind.BOOL && !root.nullable ? Optional.of(root) : Optional.empty();
    } catch (Unsupported e) {
      return Optional.empty();
    }
  }

  private FastNode node(CelExpr expr) throws Unsupported {
    switch (expr.exprKind().getKind()) {
      case CONSTANT:
        return constant(expr.constant());
      case IDENT:
        return ident(expr);
      case SELECT:
        return select(expr);
      case CALL:
        return call(expr);
      default:
        throw new Unsupported();
    }
  }

  private static FastNode constant(CelConstant c) throws Unsupported {
    switch (c.getKind()) {
      case NULL_VALUE:
        return new FastNode.Const(Kind.NULL, null);
      case BOOLEAN_VALUE:
        return new FastNode.BoolConst(c.booleanValue());
      case INT64_VALUE:
        return new FastNode.IntConst(c.int64Value());
      case DOUBLE_VALUE:
        return new FastNode.DoubleConst(c.doubleValue());
      case STRING_VALUE:
        return new FastNode.Const(Kind.STRING, c.stringValue());
      default:
        throw new Unsupported();
    }
  }

  private FastNode ident(CelExpr expr) throws Unsupported {
    String name = reference(expr);
    if (stageVariables.contains(name) || name.equals("event")) {
      throw new Unsupported();
    }
    return field(FastNode.CURRENT, name, expr);
  }

  private FastNode select(CelExpr expr) throws Unsupported {
    CelExpr.CelSelect select = expr.select();
    if (select.testOnly() || ast.getReference(expr.id()).isPresent()) {
      throw new Unsupported();
    }
    CelExpr operand = select.operand();
    switch (operand.exprKind().getKind()) {
      case IDENT:
        if (reference(operand).equals("event") && !stageVariables.contains("event")) {
          return field(FastNode.CURRENT, select.field(), expr);
        }
        throw new Unsupported();
      case CALL:
        CelExpr.CelCall call = operand.call();
        if (call.target().isEmpty() && call.args().size() == 1) {
          String stage = stage(call.args().get(0));
          if (call.function().equals("first")) {
            return field(new FastNode.FirstOf(stage), select.field(), expr);
          }
          if (call.function().equals("last")) {
            return field(new FastNode.LastOf(stage), select.field(), expr);
          }
        }
        throw new Unsupported();
      default:
        throw new Unsupported();
    }
  }

  private FastNode field(FastNode.Source source, String name, CelExpr expr) throws Unsupported {
    CelType type = type(expr);
    Kind kind = kind(type);
    if (kind == Kind.NULL) {
      throw new Unsupported();
    }
    return new FastNode.Field(source, name, kind, type instanceof NullableType);
  }

  private FastNode call(CelExpr expr) throws Unsupported {
    CelExpr.CelCall call = expr.call();
    String function = call.function();
    List<CelExpr> args = call.args();
    if (call.target().isPresent()) {
      if (function.equals("size") && args.isEmpty()) {
        return new FastNode.Count(listStage(call.target().get()));
      }
      throw new Unsupported();
    }
    if (args.size() == 1) {
      CelExpr arg = args.get(0);
      if (function.equals(Operator.LOGICAL_NOT.getFunction())) {
        return new FastNode.Not(predicate(arg));
      }
      if (function.equals(Operator.NEGATE.getFunction())) {
        FastNode operand = node(arg);
        if (operand.kind != Kind.INT && operand.kind != Kind.DOUBLE) {
          throw new Unsupported();
        }
        return new FastNode.Negate(operand);
      }
      if (function.equals("count") || function.equals("size")) {
        return new FastNode.Count(listStage(arg));
      }
      FastNode.AggregateOp aggregate = AGGREGATES.get(function);
      if (aggregate != null) {
        return aggregate(aggregate, arg, expr);
      }
      throw new Unsupported();
    }
    if (args.size() == 3 && function.equals(Operator.CONDITIONAL.getFunction())) {
      return conditional(expr, args);
    }
    if (args.size() != 2) {
      throw new Unsupported();
    }
    if (function.equals(Operator.LOGICAL_AND.getFunction()) || function.equals(Operator.LOGICAL_OR.getFunction())) {
      return new FastNode.Logic(
          function.equals(Operator.LOGICAL_OR.getFunction()), predicate(args.get(0)), predicate(args.get(1)));
    }
    FastNode left = node(args.get(0));
    FastNode right = node(args.get(1));
    if (function.equals(Operator.EQUALS.getFunction()) || function.equals(Operator.NOT_EQUALS.getFunction())) {
      if (left.kind != right.kind && left.kind != Kind.NULL && right.kind != Kind.NULL) {
        throw new Unsupported();
      }
      return new FastNode.Equals(function.equals(Operator.NOT_EQUALS.getFunction()), left, right);
    }
    FastNode.CmpOp ordering = ORDERINGS.get(function);
    if (ordering != null) {
      return comparison(ordering, left, right);
    }
    FastNode.ArithOp arith = ARITHMETIC.get(function);
    if (arith != null && left.kind == right.kind && kind(type(expr)) == left.kind) {
      if (left.kind == Kind.INT) {
        return new FastNode.IntArith(arith, left, right);
      }
      if (left.kind == Kind.DOUBLE && arith != FastNode.ArithOp.MOD) {
        return new FastNode.DoubleArith(arith, left, right);
      }
      if (left.kind == Kind.STRING && arith == FastNode.ArithOp.ADD) {
        return new FastNode.Concat(left, right);
      }
    }
    throw new Unsupported();
  }

  private static FastNode comparison(FastNode.CmpOp op, FastNode left, FastNode right) throws Unsupported {
    Kind l = left.kind;
    Kind r = right.kind;
    if (l == Kind.INT && r == Kind.INT) {
      return new FastNode.IntCmp(op, left, right);
    }
    if (l == Kind.DOUBLE && r == Kind.DOUBLE) {
      return new FastNode.DoubleCmp(op, left, right);
    }
    if ((l == Kind.INT || l == Kind.DOUBLE) && (r == Kind.INT || r == Kind.DOUBLE)) {
      return new FastNode.MixedCmp(op, left, right);
    }
    if (l == r && (l == Kind.STRING || l == Kind.BOOL)) {
      return new FastNode.ObjectCmp(op, left, right);
    }
    throw new Unsupported();
  }

  /**
   * A ternary. Its type is its branches' (either may be null, for a nullable result); a nullable
   * branch makes the result nullable so that equality treats a null branch as CEL's null.
   */
  private FastNode conditional(CelExpr expr, List<CelExpr> args) throws Unsupported {
    FastNode condition = predicate(args.get(0));
    FastNode then = node(args.get(1));
    FastNode otherwise = node(args.get(2));
    CelType type = type(expr);
    Kind kind = kind(type);
    for (FastNode branch : List.of(then, otherwise)) {
      if (branch.kind != kind && branch.kind != Kind.NULL) {
        throw new Unsupported();
      }
    }
    boolean nullable =
        type instanceof NullableType
            || then.nullable
            || otherwise.nullable
            || then.kind == Kind.NULL
            || otherwise.kind == Kind.NULL;
    if (kind == Kind.BOOL && nullable) {
      throw new Unsupported();
    }
    return new FastNode.Conditional(kind, nullable, condition, then, otherwise);
  }

  /**
   * An operand of a logical operator. A nullable bool is excluded: CEL fails on a null operand
   * without the error absorption other failures get.
   */
  private FastNode predicate(CelExpr expr) throws Unsupported {
    FastNode node = node(expr);
    if (node.kind != Kind.BOOL || node.nullable) {
      throw new Unsupported();
    }
    return node;
  }

  private FastNode aggregate(FastNode.AggregateOp op, CelExpr arg, CelExpr expr) throws Unsupported {
    String projection = reference(arg);
    String stage = stageOf(projection);
    if (stage == null || !(type(arg) instanceof ListType list)) {
      throw new Unsupported();
    }
    CelType elementType = list.elemType();
    Kind element = kind(elementType);
    if (elementType instanceof NullableType || (element != Kind.INT && element != Kind.DOUBLE)) {
      throw new Unsupported();
    }
    Kind result = kind(type(expr));
    Kind expected = op == FastNode.AggregateOp.AVG ? Kind.DOUBLE : element;
    if (result != expected || type(expr) instanceof NullableType) {
      throw new Unsupported();
    }
    return new FastNode.Aggregate(stage, projection.substring(stage.length() + 1), op, element, result);
  }

  /** The stage a list argument of {@code count}/{@code size} counts: a stage or its projection. */
  private String listStage(CelExpr arg) throws Unsupported {
    String name = reference(arg);
    if (stages.contains(name)) {
      return name;
    }
    String stage = stageOf(name);
    if (stage == null) {
      throw new Unsupported();
    }
    return stage;
  }

  private String stage(CelExpr arg) throws Unsupported {
    String name = reference(arg);
    if (!stages.contains(name)) {
      throw new Unsupported();
    }
    return name;
  }

  /** The stage of a projection variable ({@code small} for {@code small.amount}), or null. */
  private String stageOf(String variable) {
    if (!stageVariables.contains(variable)) {
      return null;
    }
    for (String stage : stages) {
      if (variable.startsWith(stage + ".")) {
        return stage;
      }
    }
    return null;
  }

  /** The variable an identifier or qualified name resolved to; not a constant's. */
  private String reference(CelExpr expr) throws Unsupported {
    Optional<CelReference> ref = ast.getReference(expr.id());
    if (ref.isEmpty() || ref.get().value().isPresent() || !ref.get().overloadIds().isEmpty()) {
      throw new Unsupported();
    }
    return ref.get().name();
  }

  private CelType type(CelExpr expr) throws Unsupported {
    return ast.getType(expr.id()).orElseThrow(Unsupported::new);
  }

  private static Kind kind(CelType type) throws Unsupported {
    CelType base = type instanceof NullableType n ? n.targetType() : type;
    if (base.equals(SimpleType.BOOL)) {
      return Kind.BOOL;
    }
    if (base.equals(SimpleType.INT)) {
      return Kind.INT;
    }
    if (base.equals(SimpleType.DOUBLE)) {
      return Kind.DOUBLE;
    }
    if (base.equals(SimpleType.STRING)) {
      return Kind.STRING;
    }
    if (base.equals(SimpleType.NULL_TYPE) && !(type instanceof NullableType)) {
      return Kind.NULL;
    }
    throw new Unsupported();
  }
}
