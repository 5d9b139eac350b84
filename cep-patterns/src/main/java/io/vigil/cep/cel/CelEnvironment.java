package io.vigil.cep.cel;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.CelValidationException;
import dev.cel.common.Operator;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.ast.CelReference;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.NullableType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.common.types.TypeParamType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelFunctionBinding;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.Schema;

/**
 * The CEL environment rule conditions are compiled in: what a condition may name, with which
 * types, and the functions over earlier stages.
 *
 * <p>A condition sees the current event's fields as variables ({@code amount}), the whole event as
 * {@code event}, and every stage of the rule as a list of the events it matched so far ({@code
 * small}, typed as a list of that stage's event type, so {@code first(small).amunt} is a type
 * error). For each stage and field, {@code small.amount} is the list of that field's values, so
 * {@code sum(small.amount)} reads naturally. Functions: {@code first}, {@code last}, {@code count}
 * (also the standard {@code size}), {@code sum}, {@code min}, {@code max}, {@code avg}. Avro types
 * map to CEL as string/enum -> string, int/long/timestamp -> int, float/double -> double, boolean
 * -> bool; a nullable field is a nullable CEL type. Numbers of different kinds compare ({@code
 * amount > 1}), but arithmetic needs one kind ({@code amount * 10.0}).
 *
 * <p>Only the standard CEL library and these pure functions are available: no I/O, no
 * reflection, no class loading, so a rule is safe to accept from an untrusted control topic.
 */
public final class CelEnvironment {

  private static final CelOptions OPTIONS =
      CelOptions.current().enableHeterogeneousNumericComparisons(true).build();
  private static final TypeParamType T = TypeParamType.create("T");

  private static final CelRuntime RUNTIME =
      CelRuntimeFactory.standardCelRuntimeBuilder()
          .setOptions(OPTIONS)
          .addFunctionBindings(
              CelFunctionBinding.from("vigil_first", List.class, l -> element(l, 0)),
              CelFunctionBinding.from("vigil_last", List.class, l -> element(l, l.size() - 1)),
              CelFunctionBinding.from("vigil_count", List.class, l -> (long) l.size()),
              CelFunctionBinding.from("vigil_sum_int", List.class, CelEnvironment::sumInt),
              CelFunctionBinding.from("vigil_sum_double", List.class, CelEnvironment::sumDouble),
              CelFunctionBinding.from("vigil_avg_int", List.class, l -> avg(l)),
              CelFunctionBinding.from("vigil_avg_double", List.class, l -> avg(l)),
              CelFunctionBinding.from("vigil_min_int", List.class, l -> extreme(l, -1)),
              CelFunctionBinding.from("vigil_min_double", List.class, l -> extreme(l, -1)),
              CelFunctionBinding.from("vigil_max_int", List.class, l -> extreme(l, 1)),
              CelFunctionBinding.from("vigil_max_double", List.class, l -> extreme(l, 1)))
          .build();

  private static final List<CelFunctionDecl> FUNCTIONS =
      List.of(
          CelFunctionDecl.newFunctionDeclaration(
              "first", CelOverloadDecl.newGlobalOverload("vigil_first", T, ListType.create(T))),
          CelFunctionDecl.newFunctionDeclaration(
              "last", CelOverloadDecl.newGlobalOverload("vigil_last", T, ListType.create(T))),
          CelFunctionDecl.newFunctionDeclaration(
              "count",
              CelOverloadDecl.newGlobalOverload("vigil_count", SimpleType.INT, ListType.create(T))),
          numeric("sum", SimpleType.INT, SimpleType.DOUBLE),
          numeric("avg", SimpleType.DOUBLE, SimpleType.DOUBLE),
          numeric("min", SimpleType.INT, SimpleType.DOUBLE),
          numeric("max", SimpleType.INT, SimpleType.DOUBLE));

  /** A stage as the environment sees it: its name and the event type it reads. */
  public record StageType(String name, Schema schema) {}

  private final CelCompiler compiler;
  private final Set<String> stageNames = new HashSet<>();
  private final Set<String> stageVariables = new HashSet<>();
  private final Set<String> stringFields = new HashSet<>();

  /**
   * An environment for conditions on events of {@code current} (null for expressions that see no
   * current event, such as derived-event fields), in a rule with these stages.
   */
  public CelEnvironment(Schema current, List<StageType> stages, CelType resultType) {
    Map<String, StructType> structs = new LinkedHashMap<>();
    CelCompilerBuilder builder =
        CelCompilerFactory.standardCelCompilerBuilder()
            .setOptions(OPTIONS)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addFunctionDeclarations(FUNCTIONS)
            .setResultType(resultType);
    if (current != null) {
      for (Schema.Field f : current.getFields()) {
        celType(f.schema()).ifPresent(t -> builder.addVar(f.name(), t));
        celType(f.schema())
            .filter(t -> t.equals(SimpleType.STRING) || t.equals(NullableType.create(SimpleType.STRING)))
            .ifPresent(t -> stringFields.add(f.name()));
      }
      builder.addVar("event", struct(current, structs));
    }
    for (StageType stage : stages) {
      builder.addVar(stage.name(), ListType.create(struct(stage.schema(), structs)));
      stageNames.add(stage.name());
      stageVariables.add(stage.name());
      for (Schema.Field f : stage.schema().getFields()) {
        Optional<CelType> t = celType(f.schema());
        if (t.isPresent()) {
          String projection = stage.name() + "." + f.name();
          builder.addVar(projection, ListType.create(t.get()));
          stageVariables.add(projection);
        }
      }
    }
    builder.setTypeProvider(
        new CelTypeProvider() {
          @Override
          public ImmutableList<CelType> types() {
            return ImmutableList.copyOf(structs.values());
          }

          @Override
          public Optional<CelType> findType(String typeName) {
            return Optional.ofNullable(structs.get(typeName));
          }
        });
    this.compiler = builder.build();
  }

  /**
   * Compiles and type-checks {@code expression}, with a {@link FastCondition} when it is a
   * boolean expression in that evaluator's subset.
   *
   * @throws IllegalArgumentException with CEL's messages (one per line, with the column) when
   *     the expression does not parse or type-check
   */
  public CompiledExpression compile(String expression) {
    try {
      CelAbstractSyntaxTree ast = compiler.compile(expression).getAst();
      Set<String> used = new HashSet<>();
      for (CelReference ref : ast.getReferenceMap().values()) {
        if (stageVariables.contains(ref.name())) {
          used.add(ref.name());
        }
      }
      Map<String, String> required = new HashMap<>();
      requiredEqualities(ast, ast.getExpr(), required);
      return new CompiledExpression(
          expression,
          RUNTIME.createProgram(ast),
          Set.copyOf(used),
          Map.copyOf(required),
          FastCondition.of(ast, stageNames, stageVariables).orElse(null));
    } catch (CelValidationException e) {
      StringBuilder message = new StringBuilder();
      for (CelIssue issue : e.getErrors()) {
        if (message.length() > 0) {
          message.append("; ");
        }
        message
            .append(issue.getMessage())
            .append(" (column ")
            .append(issue.getSourceLocation().getColumn() + 1)
            .append(')');
      }
      throw new IllegalArgumentException(message.toString(), e);
    } catch (dev.cel.common.CelException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * Collects the {@code field == 'literal'} terms (either way round) of {@code expr}'s top-level
   * conjunction that compare a string field of the current event: the expression can hold only
   * for an event whose field has that value. A field compared with two different literals keeps
   * one; either is necessary.
   */
  private void requiredEqualities(CelAbstractSyntaxTree ast, CelExpr expr, Map<String, String> out) {
    if (expr.exprKind().getKind() != CelExpr.ExprKind.Kind.CALL) {
      return;
    }
    CelExpr.CelCall call = expr.call();
    if (call.target().isPresent() || call.args().size() != 2) {
      return;
    }
    if (call.function().equals(Operator.LOGICAL_AND.getFunction())) {
      requiredEqualities(ast, call.args().get(0), out);
      requiredEqualities(ast, call.args().get(1), out);
    } else if (call.function().equals(Operator.EQUALS.getFunction())) {
      for (int i = 0; i < 2; i++) {
        CelExpr field = call.args().get(i);
        CelExpr literal = call.args().get(1 - i);
        if (field.exprKind().getKind() == CelExpr.ExprKind.Kind.IDENT
            && stringFields.contains(field.ident().name())
            && ast.getReference(field.id()).map(r -> r.name().equals(field.ident().name())).orElse(false)
            && literal.exprKind().getKind() == CelExpr.ExprKind.Kind.CONSTANT
            && literal.constant().getKind() == CelConstant.Kind.STRING_VALUE) {
          out.put(field.ident().name(), literal.constant().stringValue());
        }
      }
    }
  }

  /** The CEL type of an Avro field type, or empty when CEL conditions cannot use it. */
  public static Optional<CelType> celType(Schema schema) {
    switch (schema.getType()) {
      case STRING:
      case ENUM:
        return Optional.of(SimpleType.STRING);
      case INT:
      case LONG:
        return Optional.of(SimpleType.INT);
      case FLOAT:
      case DOUBLE:
        return Optional.of(SimpleType.DOUBLE);
      case BOOLEAN:
        return Optional.of(SimpleType.BOOL);
      case UNION:
        List<Schema> branches = schema.getTypes();
        if (branches.size() == 2 && branches.get(0).getType() == Schema.Type.NULL) {
          return celType(branches.get(1)).map(NullableType::create);
        }
        return Optional.empty();
      default:
        return Optional.empty();
    }
  }

  private static StructType struct(Schema schema, Map<String, StructType> structs) {
    String name = "vigil." + schema.getName();
    return structs.computeIfAbsent(
        name,
        n -> {
          Map<String, CelType> fields = new LinkedHashMap<>();
          for (Schema.Field f : schema.getFields()) {
            celType(f.schema()).ifPresent(t -> fields.put(f.name(), t));
          }
          return StructType.create(
              n, ImmutableSet.copyOf(fields.keySet()), f -> Optional.ofNullable(fields.get(f)));
        });
  }

  private static CelFunctionDecl numeric(String name, CelType intResult, CelType doubleResult) {
    return CelFunctionDecl.newFunctionDeclaration(
        name,
        CelOverloadDecl.newGlobalOverload(
            "vigil_" + name + "_int", intResult, ListType.create(SimpleType.INT)),
        CelOverloadDecl.newGlobalOverload(
            "vigil_" + name + "_double", doubleResult, ListType.create(SimpleType.DOUBLE)));
  }

  private static Object element(List<?> list, int index) {
    if (list.isEmpty()) {
      throw new IllegalArgumentException("the stage has matched no event yet");
    }
    return list.get(index);
  }

  private static long sumInt(List<?> list) {
    long sum = 0;
    for (Object o : list) {
      sum += ((Number) o).longValue();
    }
    return sum;
  }

  private static double sumDouble(List<?> list) {
    double sum = 0;
    for (Object o : list) {
      sum += ((Number) o).doubleValue();
    }
    return sum;
  }

  private static double avg(List<?> list) {
    if (list.isEmpty()) {
      throw new IllegalArgumentException("avg of a stage that has matched no event yet");
    }
    return sumDouble(list) / list.size();
  }

  private static Object extreme(List<?> list, int sign) {
    Object best = element(list, 0);
    for (Object o : list) {
      if (Double.compare(((Number) o).doubleValue(), ((Number) best).doubleValue()) * sign > 0) {
        best = o;
      }
    }
    return best;
  }
}
