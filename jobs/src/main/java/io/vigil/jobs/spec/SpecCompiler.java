package io.vigil.jobs.spec;

import io.vigil.cep.RuleLibrary;
import io.vigil.cep.rule.RuleException;
import io.vigil.functions.anomaly.DetectorSpec;
import io.vigil.functions.anomaly.Detectors;
import io.vigil.functions.ingest.DecodeSettings;
import io.vigil.functions.ingest.WireFormat;
import io.vigil.functions.sink.OutputFormat;
import io.vigil.functions.window.AggregationSpec;
import io.vigil.functions.window.MetricSpec;
import io.vigil.jobs.options.VigilOptions;
import io.vigil.jobs.rules.JobRules;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.EventTypes;
import io.vigil.schemas.RuleCommand;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.avro.Schema;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.util.TimeUtils;

/**
 * Checks a loaded spec against the event type's Avro schema and Vigil's rules, and compiles it.
 *
 * <p>Every problem is collected (so a user fixes them all in one pass), each naming the file, the
 * line and the path of the node at fault. Nothing is started before a spec compiles.
 */
public final class SpecCompiler {

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,62}");
  private static final Set<Schema.Type> NUMERIC =
      Set.of(Schema.Type.INT, Schema.Type.LONG, Schema.Type.FLOAT, Schema.Type.DOUBLE);
  private static final Set<Schema.Type> KEY_TYPES =
      Set.of(Schema.Type.STRING, Schema.Type.ENUM, Schema.Type.INT, Schema.Type.LONG);

  private final SpecLoader.Loaded loaded;
  private final Function<String, String> env;
  private final boolean checkFolderRules;
  private final List<SpecError> errors = new ArrayList<>();

  private SpecCompiler(SpecLoader.Loaded loaded, Function<String, String> env, boolean checkFolderRules) {
    this.loaded = loaded;
    this.env = env;
    this.checkFolderRules = checkFolderRules;
  }

  /** Loads and compiles a spec file, resolving {@code ${env:NAME}} from the process environment. */
  public static CompiledSpec compile(Path file) throws SpecException {
    return compile(file, true);
  }

  /**
   * Like {@link #compile(Path)}; with {@code checkFolderRules} false, invalid files in the rules
   * folder are not errors. For {@code vigil rule}, which changes that folder: it must be able to
   * delete or replace a bad file.
   */
  public static CompiledSpec compile(Path file, boolean checkFolderRules) throws SpecException {
    return compile(SpecLoader.load(file), System::getenv, checkFolderRules);
  }

  public static CompiledSpec compile(SpecLoader.Loaded loaded, Function<String, String> env)
      throws SpecException {
    return compile(loaded, env, true);
  }

  private static CompiledSpec compile(SpecLoader.Loaded loaded, Function<String, String> env, boolean checkFolderRules)
      throws SpecException {
    SpecCompiler compiler = new SpecCompiler(loaded, env, checkFolderRules);
    CompiledSpec spec = compiler.compile();
    if (!compiler.errors.isEmpty()) {
      throw new SpecException(compiler.errors);
    }
    return spec;
  }

  private void error(String path, String message) {
    errors.add(loaded.error(path, message));
  }

  private CompiledSpec compile() {
    JobSpec spec = loaded.spec();
    String name = required(spec.name(), "name");
    if (name != null && !NAME.matcher(name).matches()) {
      error("name", "'" + name + "' must be lower-case letters, digits and '-', starting with a letter");
    }
    Schema schema = eventSchema(spec.eventType());
    String key = required(spec.key(), "key");
    String eventTime = required(spec.eventTime(), "eventTime");
    if (schema != null) {
      checkField(schema, key, "key", KEY_TYPES, "a string, enum, int or long");
      checkField(schema, eventTime, "eventTime", Set.of(Schema.Type.LONG), "a long (epoch millis)");
    }
    JobSpec.Input input = spec.input() == null ? new JobSpec.Input(null, null, null, null, null) : spec.input();
    Duration maxOutOfOrderness = Duration.ofSeconds(5);
    Duration idleTimeout = Duration.ofSeconds(30);
    if (input.watermarks() != null) {
      maxOutOfOrderness = duration(input.watermarks().maxOutOfOrderness(), "input.watermarks.maxOutOfOrderness", maxOutOfOrderness, true);
      idleTimeout = duration(input.watermarks().idleTimeout(), "input.watermarks.idleTimeout", idleTimeout, true);
    }
    DecodeSettings decode = decodeSettings(spec.eventType(), key, eventTime, input, schema != null && key != null && eventTime != null);
    Optional<CompiledSpec.KafkaInput> kafka = Optional.ofNullable(input.kafka()).map(this::kafkaInput);
    CompiledSpec.GeneratorSettings generator = generator(input.generator());
    List<AggregationSpec> aggregations = aggregations(spec.aggregations(), schema);
    List<DetectorSpec> detectors = detectors(spec.detectors(), schema);
    JobSpec.Outputs outputs = spec.outputs() == null ? new JobSpec.Outputs(null, null, null, null, null, null) : spec.outputs();
    String defaultBootstrap = kafka.map(CompiledSpec.KafkaInput::bootstrapServers).orElse(null);
    Configuration configuration = settings(spec.settings());
    List<CompiledSpec.Output> aggregateOutputs =
        outputs(outputs.aggregates(), "outputs.aggregates", name, "aggregates", defaultBootstrap, configuration);
    List<CompiledSpec.Output> scoreOutputs =
        outputs(outputs.scores(), "outputs.scores", name, "scores", defaultBootstrap, configuration);
    List<CompiledSpec.Output> alertOutputs =
        outputs(outputs.alerts(), "outputs.alerts", name, "alerts", defaultBootstrap, configuration);
    List<CompiledSpec.Output> ruleStatusOutputs =
        outputs(outputs.ruleStatus(), "outputs.ruleStatus", name, "rule-status", defaultBootstrap, configuration);
    List<CompiledSpec.Output> derivedOutputs =
        outputs(outputs.derived(), "outputs.derived", name, "derived", defaultBootstrap, configuration);
    List<String> ruleEventTypes = new ArrayList<>();
    if (schema != null) {
      ruleEventTypes.add(schema.getName());
    }
    // From the spec as written: another section's error must not make its rules look unfit too.
    if (spec.detectors() != null && spec.detectors().stream().anyMatch(d -> d.groupBy() == null || d.groupBy().isEmpty())) {
      ruleEventTypes.add(AnomalyScore.getClassSchema().getName());
    }
    Optional<CompiledSpec.RuleSettings> rules = rules(spec.rules(), kafka, ruleEventTypes, key);
    if (rules.isPresent() && alertOutputs.isEmpty()) {
      error("outputs.alerts", "the spec has rules but no alerts output; add one (kafka, file or console)");
    }
    List<CompiledSpec.Output> deadLetterOutputs =
        outputs(outputs.deadLetters(), "outputs.deadLetters", name, "dead-letters", defaultBootstrap, configuration);
    if (!aggregations.isEmpty() && aggregateOutputs.isEmpty()) {
      error("outputs.aggregates", "the spec has aggregations but no aggregates output; add one (kafka, file or console)");
    }
    if (!detectors.isEmpty() && scoreOutputs.isEmpty()) {
      error("outputs.scores", "the spec has detectors but no scores output; add one (kafka, file or console)");
    }
    if (deadLetterOutputs.isEmpty()) {
      error("outputs.deadLetters", "a dead-letter output is required, so that no bad record is dropped unseen");
    }
    if (!errors.isEmpty()) {
      return null;
    }
    return new CompiledSpec(
        name,
        spec.eventType(),
        schema,
        decode,
        maxOutOfOrderness,
        idleTimeout.isZero() ? null : idleTimeout,
        kafka,
        generator,
        aggregations,
        detectors,
        rules,
        aggregateOutputs,
        scoreOutputs,
        alertOutputs,
        ruleStatusOutputs,
        derivedOutputs,
        deadLetterOutputs,
        configuration);
  }

  /**
   * Loads the library and folder rules and checks each folder rule against this job (as its rule
   * engine will), so that a bad rule stops the start.
   */
  private Optional<CompiledSpec.RuleSettings> rules(
      JobSpec.Rules r, Optional<CompiledSpec.KafkaInput> kafka, List<String> ruleEventTypes, String keyField) {
    if (r == null) {
      return Optional.empty();
    }
    List<RuleCommand> initial = new ArrayList<>();
    List<String> library = r.library() == null ? List.of() : r.library();
    for (int i = 0; i < library.size(); i++) {
      String entry = library.get(i);
      // A set (iot) or one rule of a set (iot/device-silent).
      List<RuleCommand> shipped =
          entry.contains("/")
              ? RuleLibrary.SHIPPED.contains(entry + ".yaml")
                  ? List.of(RuleLibrary.add(RuleLibrary.shipped(entry + ".yaml"), "classpath:io/vigil/rules/" + entry + ".yaml"))
                  : List.of()
              : RuleLibrary.shippedCommands(entry);
      if (shipped.isEmpty()) {
        error("rules.library[" + i + "]", "no shipped rule set or rule '" + entry + "'; shipped: " + RuleLibrary.SHIPPED);
      }
      // A set's rules that this job cannot run (a rule over anomaly scores in a job without a
      // detector keyed by the key) are left out; a set of which none fits is an error.
      RuleException unfit = null;
      int fitting = 0;
      for (RuleCommand command : shipped) {
        try {
          JobRules.check(command.getYaml(), ruleEventTypes, keyField);
          initial.add(command);
          fitting++;
        } catch (RuleException e) {
          unfit = e;
        }
      }
      if (!shipped.isEmpty() && fitting == 0) {
        error("rules.library[" + i + "]", "no rule of '" + entry + "' fits this job: " + unfit.getMessage());
      }
    }
    boolean watch = r.watch() == null || r.watch();
    Path folder = null;
    if (r.folder() != null) {
      // Relative to the spec file, so a spec and its rules travel together.
      folder = Path.of(loaded.file()).toAbsolutePath().resolveSibling(r.folder()).normalize();
      try {
        List<RuleCommand> fromFolder = RuleLibrary.folderCommands(folder);
        for (RuleCommand command : checkFolderRules ? fromFolder : List.<RuleCommand>of()) {
          try {
            JobRules.check(command.getYaml(), ruleEventTypes, keyField);
          } catch (RuleException e) {
            error("rules.folder", command.getSource() + ": " + e.getMessage());
          }
        }
        // A watched folder's rules come from the watcher, which sends them when it starts.
        if (!watch) {
          initial.addAll(fromFolder);
        }
      } catch (IOException e) {
        error("rules.folder", "cannot read rules from '" + r.folder() + "': " + e.getMessage());
      }
    } else if (r.watch() != null) {
      error("rules.watch", "watch needs a rules folder");
    }
    if (r.controlTopic() != null && kafka.isEmpty()) {
      error("rules.controlTopic", "a control topic needs the Kafka of input.kafka");
    }
    if (initial.isEmpty() && (folder == null || !watch) && r.controlTopic() == null) {
      error("rules", "no rules: give a library, a folder or a controlTopic");
    }
    return Optional.of(
        new CompiledSpec.RuleSettings(
            initial,
            folder,
            watch,
            r.controlTopic(),
            kafka.map(CompiledSpec.KafkaInput::bootstrapServers).orElse(null),
            kafka.map(CompiledSpec.KafkaInput::properties).orElse(Map.of())));
  }

  private String required(String value, String path) {
    if (value == null || value.isBlank()) {
      error(path, "missing required field '" + path.substring(path.lastIndexOf('.') + 1) + "'");
      return null;
    }
    return value;
  }

  private Schema eventSchema(String eventType) {
    if (required(eventType, "eventType") == null) {
      return null;
    }
    Optional<EventTypes.EventType> type = EventTypes.find(eventType);
    if (type.isEmpty()) {
      error("eventType", "unknown event type '" + eventType + "'; known types: " + EventTypes.names());
      return null;
    }
    return type.get().current();
  }

  /** Checks that {@code field} exists in the schema with one of the allowed types (nullable allowed). */
  private boolean checkField(Schema schema, String field, String path, Set<Schema.Type> allowed, String expected) {
    if (field == null) {
      return false;
    }
    Schema.Field f = schema.getField(field);
    if (f == null) {
      error(path, "field '" + field + "' is not in " + schema.getName() + "; its fields are " + fieldNames(schema));
      return false;
    }
    Schema.Type type = nonNull(f.schema()).getType();
    if (!allowed.contains(type)) {
      error(path, "field '" + field + "' is " + type.getName() + ", but must be " + expected);
      return false;
    }
    return true;
  }

  private static Schema nonNull(Schema schema) {
    if (schema.getType() == Schema.Type.UNION) {
      for (Schema branch : schema.getTypes()) {
        if (branch.getType() != Schema.Type.NULL) {
          return branch;
        }
      }
    }
    return schema;
  }

  private static List<String> fieldNames(Schema schema) {
    return schema.getFields().stream().map(Schema.Field::name).toList();
  }

  private Duration duration(String text, String path, Duration fallback, boolean allowZero) {
    if (text == null) {
      return fallback;
    }
    if (text.trim().startsWith("-")) {
      error(path, "'" + text + "' must be " + (allowZero ? "zero or positive" : "positive"));
      return fallback;
    }
    Duration d;
    try {
      d = TimeUtils.parseDuration(text);
    } catch (IllegalArgumentException | ArithmeticException e) {
      error(path, "'" + text + "' is not a duration; write it like '5 s', '1 min', '250 ms', '2 h'");
      return fallback;
    }
    if (d.isNegative() || (!allowZero && d.isZero())) {
      error(path, "'" + text + "' must be " + (allowZero ? "zero or positive" : "positive"));
      return fallback;
    }
    return d;
  }

  private Instant instant(String text, String path, Instant fallback) {
    if (text == null) {
      return fallback;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      error(path, "'" + text + "' is not an ISO-8601 instant such as 2026-01-01T00:00:00Z");
      return fallback;
    }
  }

  private DecodeSettings decodeSettings(String eventType, String key, String eventTime, JobSpec.Input input, boolean fieldsKnown) {
    WireFormat format = WireFormat.AUTO;
    if (input.format() != null) {
      try {
        format = WireFormat.valueOf(input.format().trim().toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        error("input.format", "unknown format '" + input.format() + "'; expected auto, avro-single-object, avro-binary or json");
      }
    }
    JobSpec.Validation v = input.validation() == null ? new JobSpec.Validation(null, null, null, null) : input.validation();
    long maxBytes = 1 << 20;
    if (v.maxRecordSize() != null) {
      try {
        maxBytes = MemorySize.parse(v.maxRecordSize()).getBytes();
        if (maxBytes <= 0 || maxBytes > Integer.MAX_VALUE) {
          error("input.validation.maxRecordSize", "'" + v.maxRecordSize() + "' must be between 1 byte and 2 gb");
        }
      } catch (IllegalArgumentException e) {
        error("input.validation.maxRecordSize", "'" + v.maxRecordSize() + "' is not a size; write it like '64 kb' or '1 mb'");
      }
    }
    Instant notBefore = instant(v.eventTimeNotBefore(), "input.validation.eventTimeNotBefore", Instant.parse("2000-01-01T00:00:00Z"));
    Instant notAfter = instant(v.eventTimeNotAfter(), "input.validation.eventTimeNotAfter", Instant.parse("2100-01-01T00:00:00Z"));
    if (!notBefore.isBefore(notAfter)) {
      error("input.validation.eventTimeNotAfter", "must be after eventTimeNotBefore (" + notBefore + ")");
    }
    if (!fieldsKnown || !errors.isEmpty()) {
      return null;
    }
    return DecodeSettings.defaults(eventType, key, eventTime)
        .withFormat(format)
        .withMaxRecordBytes((int) maxBytes)
        .withEventTimeBounds(notBefore.toEpochMilli(), notAfter.toEpochMilli())
        .withRejectNonFiniteNumbers(v.rejectNonFiniteNumbers() == null || v.rejectNonFiniteNumbers());
  }

  private CompiledSpec.KafkaInput kafkaInput(JobSpec.Kafka k) {
    String bootstrap = required(k.bootstrapServers(), "input.kafka.bootstrapServers");
    if (k.topics() == null || k.topics().isEmpty()) {
      error("input.kafka.topics", "at least one topic is required");
    }
    String groupId = k.groupId() == null ? "vigil-" + loaded.spec().name() : k.groupId();
    CompiledSpec.StartFrom startFrom = CompiledSpec.StartFrom.EARLIEST;
    long timestamp = 0;
    if (k.startFrom() != null) {
      String s = k.startFrom().trim().toLowerCase(Locale.ROOT);
      switch (s) {
        case "earliest" -> startFrom = CompiledSpec.StartFrom.EARLIEST;
        case "latest" -> startFrom = CompiledSpec.StartFrom.LATEST;
        case "committed" -> startFrom = CompiledSpec.StartFrom.COMMITTED;
        default -> {
          startFrom = CompiledSpec.StartFrom.TIMESTAMP;
          try {
            timestamp = Instant.parse(k.startFrom().trim()).toEpochMilli();
          } catch (DateTimeParseException e) {
            error("input.kafka.startFrom", "'" + k.startFrom() + "' is not earliest, latest, committed or an ISO-8601 instant");
          }
        }
      }
    }
    return new CompiledSpec.KafkaInput(
        bootstrap, k.topics() == null ? List.of() : List.copyOf(k.topics()), groupId, startFrom, timestamp,
        properties(k.properties(), "input.kafka.properties"));
  }

  private Map<String, String> properties(Map<String, String> raw, String path) {
    Map<String, String> resolved = new LinkedHashMap<>();
    if (raw == null) {
      return resolved;
    }
    raw.forEach(
        (name, value) -> {
          String v = Secrets.resolve(String.valueOf(value), env,
              missing -> error(path + "." + name, "environment variable " + missing + " is not set"));
          if (v != null) {
            resolved.put(name, v);
          }
        });
    return resolved;
  }

  private CompiledSpec.GeneratorSettings generator(JobSpec.Generator g) {
    JobSpec.Generator gen = g == null ? new JobSpec.Generator(null, null, null, null, null, null, null) : g;
    int devices = gen.devices() == null ? 200 : gen.devices();
    int sites = gen.sites() == null ? 8 : gen.sites();
    double malformed = gen.malformedShare() == null ? 0.01 : gen.malformedShare();
    double late = gen.lateShare() == null ? 0.005 : gen.lateShare();
    long rate = gen.eventsPerSecond() == null ? 0 : gen.eventsPerSecond();
    if (devices < 1) {
      error("input.generator.devices", "must be at least 1");
    }
    if (sites < 1 || sites > devices) {
      error("input.generator.sites", "must be between 1 and the number of devices");
    }
    if (malformed < 0 || late < 0 || malformed + late > 0.5) {
      error("input.generator", "malformedShare and lateShare must be >= 0 and add up to at most 0.5");
    }
    if (rate < 0) {
      error("input.generator.eventsPerSecond", "must be 0 (as fast as possible) or positive");
    }
    Instant start = instant(gen.startTime(), "input.generator.startTime", Instant.parse("2026-01-01T00:00:00Z"));
    return new CompiledSpec.GeneratorSettings(
        devices, sites, malformed, late, rate, gen.seed() == null ? 42L : gen.seed(), start);
  }

  private List<AggregationSpec> aggregations(List<JobSpec.Aggregation> defs, Schema schema) {
    List<AggregationSpec> result = new ArrayList<>();
    if (defs == null) {
      return result;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < defs.size(); i++) {
      String path = "aggregations[" + i + "]";
      JobSpec.Aggregation a = defs.get(i);
      String name = required(a.name(), path + ".name");
      if (name != null && !NAME.matcher(name).matches()) {
        error(path + ".name", "'" + name + "' must be lower-case letters, digits and '-', starting with a letter");
      } else if (name != null && !names.add(name)) {
        error(path + ".name", "duplicate aggregation name '" + name + "'");
      }
      List<String> groupBy = a.groupBy() == null ? List.of() : a.groupBy();
      if (groupBy.isEmpty()) {
        error(path + ".groupBy", "at least one group-by field is required");
      }
      for (int g = 0; g < groupBy.size(); g++) {
        if (schema != null && schema.getField(groupBy.get(g)) == null) {
          error(path + ".groupBy[" + g + "]", "field '" + groupBy.get(g) + "' is not in " + schema.getName() + "; its fields are " + fieldNames(schema));
        }
      }
      List<MetricSpec> metrics = metrics(a.compute(), path + ".compute", schema);
      Duration lateness = duration(a.allowedLateness(), path + ".allowedLateness", Duration.ZERO, true);
      AggregationSpec compiled = window(a.window(), path + ".window", name, groupBy, metrics, lateness);
      if (compiled != null) {
        result.add(compiled);
      }
    }
    return result;
  }

  private List<DetectorSpec> detectors(List<JobSpec.Detector> defs, Schema schema) {
    List<DetectorSpec> result = new ArrayList<>();
    if (defs == null) {
      return result;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < defs.size(); i++) {
      String path = "detectors[" + i + "]";
      JobSpec.Detector d = defs.get(i);
      String name = required(d.name(), path + ".name");
      if (name != null && !NAME.matcher(name).matches()) {
        error(path + ".name", "'" + name + "' must be lower-case letters, digits and '-', starting with a letter");
      } else if (name != null && !names.add(name)) {
        error(path + ".name", "duplicate detector name '" + name + "'");
      }
      List<String> fields = d.fields() == null ? List.of() : d.fields();
      if (fields.isEmpty()) {
        error(path + ".fields", "at least one numeric field to watch is required");
      }
      for (int f = 0; f < fields.size(); f++) {
        if (schema != null) {
          checkField(schema, fields.get(f), path + ".fields[" + f + "]", NUMERIC, "numeric (int, long, float or double)");
        }
      }
      List<String> groupBy = d.groupBy() == null ? List.of() : d.groupBy();
      for (int g = 0; g < groupBy.size(); g++) {
        if (schema != null && schema.getField(groupBy.get(g)) == null) {
          error(path + ".groupBy[" + g + "]", "field '" + groupBy.get(g) + "' is not in " + schema.getName() + "; its fields are " + fieldNames(schema));
        }
      }
      String detector = d.detector() == null ? Detectors.DEFAULT : d.detector();
      if (!Detectors.NAMES.contains(detector)) {
        error(path + ".detector", "unknown detector '" + detector + "'; known: " + Detectors.NAMES);
      }
      double threshold = d.threshold() == null ? 0.9 : d.threshold();
      if (!(threshold >= 0 && threshold <= 1)) {
        error(path + ".threshold", "must be between 0 and 1");
      }
      Duration idle = duration(d.idleTimeout(), path + ".idleTimeout", Duration.ofDays(1), false);
      if (errors.isEmpty()) {
        result.add(new DetectorSpec(name, fields, detector, threshold, groupBy, idle));
      }
    }
    return result;
  }

  private List<MetricSpec> metrics(List<String> compute, String path, Schema schema) {
    List<MetricSpec> metrics = new ArrayList<>();
    if (compute == null || compute.isEmpty()) {
      error(path, "at least one function is required, e.g. [count, avg(temperature), p95(temperature)]");
      return metrics;
    }
    Set<String> outputs = new HashSet<>();
    for (int m = 0; m < compute.size(); m++) {
      String at = path + "[" + m + "]";
      MetricSpec metric;
      try {
        metric = MetricSpec.parse(compute.get(m));
      } catch (IllegalArgumentException e) {
        error(at, e.getMessage());
        continue;
      }
      if (metric.field() != null && schema != null) {
        boolean numeric = metric.kind() != MetricSpec.AggregateKind.DISTINCT;
        if (numeric) {
          checkField(schema, metric.field(), at, NUMERIC, "numeric (int, long, float or double)");
        } else if (schema.getField(metric.field()) == null) {
          error(at, "field '" + metric.field() + "' is not in " + schema.getName() + "; its fields are " + fieldNames(schema));
        }
      }
      if (!outputs.add(metric.outputName())) {
        error(at, "'" + compute.get(m) + "' is computed twice");
      }
      metrics.add(metric);
    }
    return metrics;
  }

  private AggregationSpec window(JobSpec.Window w, String path, String name, List<String> groupBy, List<MetricSpec> metrics, Duration lateness) {
    if (w == null || w.type() == null) {
      error(path + ".type", "missing window type; expected tumbling, sliding or session");
      return null;
    }
    String type = w.type().trim().toLowerCase(Locale.ROOT);
    Duration size = null;
    Duration slide = null;
    Duration gap = null;
    switch (type) {
      case "tumbling" -> {
        size = windowLength(w.size(), path + ".size");
        unexpected(w.slide(), path + ".slide", "tumbling");
        unexpected(w.gap(), path + ".gap", "tumbling");
      }
      case "sliding" -> {
        size = windowLength(w.size(), path + ".size");
        slide = windowLength(w.slide(), path + ".slide");
        unexpected(w.gap(), path + ".gap", "sliding");
        if (size != null && slide != null && slide.compareTo(size) > 0) {
          error(path + ".slide", "slide (" + w.slide() + ") must not exceed size (" + w.size() + ")");
        }
      }
      case "session" -> {
        gap = windowLength(w.gap(), path + ".gap");
        unexpected(w.size(), path + ".size", "session");
        unexpected(w.slide(), path + ".slide", "session");
      }
      default -> error(path + ".type", "unknown window type '" + w.type() + "'; expected tumbling, sliding or session");
    }
    if (!errors.isEmpty()) {
      return null;
    }
    return switch (type) {
      case "tumbling" -> AggregationSpec.tumbling(name, size, lateness, groupBy, metrics);
      case "sliding" -> AggregationSpec.sliding(name, size, slide, lateness, groupBy, metrics);
      default -> AggregationSpec.session(name, gap, lateness, groupBy, metrics);
    };
  }

  private Duration windowLength(String text, String path) {
    if (text == null) {
      error(path, "missing required field '" + path.substring(path.lastIndexOf('.') + 1) + "'");
      return null;
    }
    Duration d = duration(text, path, null, false);
    if (d != null && d.toMillis() < 1) {
      error(path, "'" + text + "' must be at least 1 ms");
      return null;
    }
    return d;
  }

  private void unexpected(String value, String path, String type) {
    if (value != null) {
      error(path, "a " + type + " window has no '" + path.substring(path.lastIndexOf('.') + 1) + "'");
    }
  }

  private List<CompiledSpec.Output> outputs(List<JobSpec.Output> defs, String path, String job, String what, String defaultBootstrap, Configuration configuration) {
    List<CompiledSpec.Output> result = new ArrayList<>();
    if (defs == null) {
      return result;
    }
    for (int i = 0; i < defs.size(); i++) {
      String at = path + "[" + i + "]";
      JobSpec.Output def = defs.get(i);
      if (def instanceof JobSpec.FileOutput f) {
        if (required(f.path(), at + ".path") != null) {
          result.add(new CompiledSpec.FileOutput(Path.of(f.path())));
        }
      } else if (def instanceof JobSpec.ConsoleOutput) {
        result.add(new CompiledSpec.ConsoleOutput());
      } else if (def instanceof JobSpec.KafkaOutput k) {
        result.add(kafkaOutput(k, at, job, what, defaultBootstrap, configuration));
      }
    }
    return result;
  }

  private CompiledSpec.KafkaOutput kafkaOutput(JobSpec.KafkaOutput k, String at, String job, String what, String defaultBootstrap, Configuration configuration) {
    String topic = required(k.topic(), at + ".topic");
    String bootstrap = k.bootstrapServers() != null ? k.bootstrapServers() : defaultBootstrap;
    if (bootstrap == null) {
      error(at + ".bootstrapServers", "missing bootstrapServers (there is no Kafka input to take it from)");
    }
    DeliveryGuarantee guarantee = DeliveryGuarantee.EXACTLY_ONCE;
    if (k.deliveryGuarantee() != null) {
      switch (k.deliveryGuarantee().trim().toLowerCase(Locale.ROOT)) {
        case "exactly-once" -> guarantee = DeliveryGuarantee.EXACTLY_ONCE;
        case "at-least-once" -> guarantee = DeliveryGuarantee.AT_LEAST_ONCE;
        case "none" -> guarantee = DeliveryGuarantee.NONE;
        default -> error(at + ".deliveryGuarantee", "'" + k.deliveryGuarantee() + "' is not exactly-once, at-least-once or none");
      }
    }
    String prefix = k.transactionalIdPrefix() != null ? k.transactionalIdPrefix() : "vigil-" + job + "-" + what;
    Duration timeout = duration(k.transactionTimeout(), at + ".transactionTimeout", configuration.get(VigilOptions.KAFKA_TRANSACTION_TIMEOUT), false);
    OutputFormat format = OutputFormat.AVRO;
    if (k.format() != null) {
      try {
        format = OutputFormat.valueOf(k.format().trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        error(at + ".format", "unknown format '" + k.format() + "'; expected avro or json");
      }
    }
    return new CompiledSpec.KafkaOutput(topic, bootstrap, guarantee, prefix, timeout, format, properties(k.properties(), at + ".properties"));
  }

  private Configuration settings(Map<String, String> settings) {
    Map<String, String> values = new LinkedHashMap<>();
    if (settings != null) {
      settings.forEach((k, v) -> values.put(k, String.valueOf(v)));
    }
    Configuration configuration = Configuration.fromMap(values);
    Map<String, ConfigOption<?>> known = new LinkedHashMap<>();
    VigilOptions.all().forEach(o -> known.put(o.key(), o));
    for (String k : values.keySet()) {
      if (k.startsWith("vigil.")) {
        ConfigOption<?> option = known.get(k);
        if (option == null) {
          error("settings." + k, "unknown Vigil setting '" + k + "'; known: " + known.keySet());
          continue;
        }
        try {
          configuration.get(option);
        } catch (IllegalArgumentException e) {
          error("settings." + k, "'" + values.get(k) + "' is not a valid value: " + e.getMessage());
        }
      }
    }
    return configuration;
  }
}
