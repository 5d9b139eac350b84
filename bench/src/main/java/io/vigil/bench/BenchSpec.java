package io.vigil.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vigil.cep.RuleLibrary;
import io.vigil.jobs.VigilJob;
import io.vigil.jobs.options.VigilOptions;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.spec.SpecCompiler;
import io.vigil.jobs.spec.SpecLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.rocksdb.CompressionType;

/**
 * The benchmark's job spec ({@code bench-spec.yaml}) and rule ({@code temperature-spike.yaml}),
 * from the classpath, compiled as {@code vigil run} compiles a spec. The rule is added as the
 * spec's only start-up rule (a spec names rule folders on disk, which a jar does not have).
 */
public final class BenchSpec {

  private static final String FILE = "bench-spec.yaml";

  /** The rule's YAML. */
  public static final String RULE_YAML = resource("temperature-spike.yaml");

  /** The same rule matching in arrival order ({@code order: arrival}), as Esper matches. */
  public static final String ARRIVAL_RULE_YAML = inArrivalOrder(RULE_YAML);

  private BenchSpec() {}

  /** The compiled spec, checkpointing to {@code checkpointDir}. */
  public static CompiledSpec compile(Path checkpointDir) throws Exception {
    CompiledSpec spec = SpecCompiler.compile(SpecLoader.parse(FILE, resource(FILE)), System::getenv);
    spec.configuration().set(VigilOptions.CHECKPOINT_DIR, checkpointDir.toUri().toString());
    return withRule(spec, RULE_YAML);
  }

  /** The output kinds of a spec, as {@code outputs:} names them, that the Kafka table writes to topics. */
  public static final List<String> KAFKA_OUTPUTS = List.of("aggregates", "scores", "alerts", "deadLetters");

  /**
   * {@code bench-spec.yaml} as a user would run it against Kafka, compiled as {@code vigil run}
   * compiles it: an {@code input.kafka} section (reading {@code inputTopic} from the earliest
   * offset as group {@code groupId}) and, for each of {@link #KAFKA_OUTPUTS}, one Kafka output
   * with the spec's defaults (exactly-once, Avro) on the topic {@link #outputTopic}{@code
   * (outputPrefix, kind)}, whose name is also its transactional id prefix. Rules and Flink
   * configuration (state backend, checkpoint directory and interval) are {@code base}'s.
   */
  public static CompiledSpec withKafka(CompiledSpec base, String bootstrapServers, String inputTopic, String groupId, String outputPrefix)
      throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    ObjectNode root = (ObjectNode) yaml.readTree(resource(FILE));
    ObjectNode kafka = ((ObjectNode) root.get("input")).putObject("kafka");
    kafka.put("bootstrapServers", bootstrapServers);
    kafka.putArray("topics").add(inputTopic);
    kafka.put("groupId", groupId);
    ObjectNode outputs = root.putObject("outputs");
    for (String kind : KAFKA_OUTPUTS) {
      String topic = outputTopic(outputPrefix, kind);
      outputs.putArray(kind).addObject().put("kind", "kafka").put("topic", topic).put("transactionalIdPrefix", topic);
    }
    CompiledSpec spec = SpecCompiler.compile(SpecLoader.parse(FILE, yaml.writeValueAsString(root)), System::getenv);
    return copy(spec, base.rules(), base.configuration(), spec.maxOutOfOrderness());
  }

  /** The topic of output {@code kind} (one of {@link #KAFKA_OUTPUTS}) under {@code prefix}. */
  public static String outputTopic(String prefix, String kind) {
    return prefix + "-" + kind.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
  }

  /** The spec with checkpoints every {@code interval}. */
  public static CompiledSpec withCheckpointInterval(CompiledSpec spec, Duration interval) {
    Configuration conf = new Configuration(spec.configuration());
    conf.set(VigilOptions.CHECKPOINT_INTERVAL, interval);
    return copy(spec, spec.rules(), conf, spec.maxOutOfOrderness());
  }

  /** The Flink configuration every benchmark job runs with: Vigil's ({@link VigilJob#jobConfiguration}). */
  public static Configuration jobConfiguration(CompiledSpec spec) {
    return VigilJob.jobConfiguration(spec);
  }

  /**
   * The spec with Flink's {@code state.backend.type} set to {@code backend} ({@code rocksdb}, as
   * Vigil runs by default, or {@code hashmap}); every benchmark job takes its configuration from
   * the spec, so the Vigil job and its baselines always share one backend.
   */
  public static CompiledSpec withStateBackend(CompiledSpec spec, String backend) {
    Configuration conf = new Configuration(spec.configuration());
    conf.set(StateBackendOptions.STATE_BACKEND, backend);
    return copy(spec, spec.rules(), conf, spec.maxOutOfOrderness());
  }

  /**
   * The spec as a latency-sensitive deployment over near-ordered input would run it: a 20 ms
   * out-of-orderness bound instead of 5 s (the engine matches only behind the watermark, so the
   * bound is the floor of every alert's latency), watermarks every 10 ms instead of 200 ms, and
   * network buffers flushed after at most 5 ms instead of 100 ms.
   *
   * <p>With RocksDB also small memtables, flushed by more background threads, uncompressed in the
   * first two levels. RocksDB's checkpoint (the synchronous phase, during which the task stalls)
   * flushes every column family's memtable; with Flink's 64 MB default a memtable holds a whole
   * checkpoint interval of writes, so all of them flush in that phase, one job after another on
   * one shared flush thread, at the same moment in every operator. With 256 KB memtables most
   * writes are flushed in the background between checkpoints. Plain Flink settings in the spec's
   * {@code settings}, nothing else changed.
   */
  public static CompiledSpec lowLatency(CompiledSpec spec) {
    Configuration conf = new Configuration(spec.configuration());
    conf.set(PipelineOptions.AUTO_WATERMARK_INTERVAL, Duration.ofMillis(10));
    conf.set(ExecutionOptions.BUFFER_TIMEOUT, Duration.ofMillis(5));
    conf.set(RocksDBConfigurableOptions.WRITE_BUFFER_SIZE, MemorySize.parse("256kb"));
    // RocksDB derives its flush threads as a quarter of the background jobs: 16 gives 4.
    conf.set(RocksDBConfigurableOptions.MAX_BACKGROUND_THREADS, 16);
    conf.set(
        RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL,
        List.of(CompressionType.NO_COMPRESSION, CompressionType.NO_COMPRESSION, CompressionType.SNAPPY_COMPRESSION));
    return copy(spec, spec.rules(), conf, Duration.ofMillis(20));
  }

  /**
   * The spike of the latency section's rule ({@link #withLatencyRule}): 1 degree instead of 10.
   * The readings' noise makes about 4% of them such a spike, against about 0.06% for the bench
   * rule, so a 30 s run yields thousands of alerts and their p99 is a percentile, not the largest
   * of a few dozen.
   */
  public static final double LATENCY_STEP = 1.0;

  /**
   * {@code spec} with the bench rule at a spike of {@link #LATENCY_STEP} degrees (same pattern,
   * same conditions otherwise), in arrival order ({@code order: arrival}: each reading is matched
   * as it reaches the rule engine, so an alert no longer waits for the watermark) or in event-time
   * order.
   */
  public static CompiledSpec withLatencyRule(CompiledSpec spec, boolean arrival) {
    String step = String.format(Locale.ROOT, "+ %.1f\"", Oracle.SPIKE_STEP);
    if (!RULE_YAML.contains(step)) {
      throw new IllegalStateException("the benchmark rule no longer ends its condition with '" + step + "'");
    }
    String yaml = RULE_YAML.replace(step, String.format(Locale.ROOT, "+ %.1f\"", LATENCY_STEP));
    return withRule(spec, arrival ? inArrivalOrder(yaml) : yaml);
  }

  /** {@code spec} with {@code yaml} as its only start-up rule. */
  private static CompiledSpec withRule(CompiledSpec spec, String yaml) {
    return copy(
        spec,
        Optional.of(new CompiledSpec.RuleSettings(List.of(RuleLibrary.add(yaml, "bench")), null, false, null, null, Map.of())),
        spec.configuration(),
        spec.maxOutOfOrderness());
  }

  private static String inArrivalOrder(String yaml) {
    String arrival = yaml.replace("key: deviceId\n", "key: deviceId\norder: arrival\n");
    if (arrival.equals(yaml)) {
      throw new IllegalStateException("the benchmark rule no longer has a 'key: deviceId' line to add 'order: arrival' after");
    }
    return arrival;
  }

  private static String resource(String name) {
    try (InputStream in = BenchSpec.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code spec} with other rules, configuration and watermark bound: the one place bench rebuilds
   * a spec.
   */
  private static CompiledSpec copy(
      CompiledSpec spec, Optional<CompiledSpec.RuleSettings> rules, Configuration conf, Duration maxOutOfOrderness) {
    return new CompiledSpec(
        spec.name(),
        spec.eventTypeName(),
        spec.eventSchema(),
        spec.decode(),
        maxOutOfOrderness,
        spec.idleTimeout(),
        spec.kafka(),
        spec.generator(),
        spec.aggregations(),
        spec.detectors(),
        rules,
        spec.aggregateOutputs(),
        spec.scoreOutputs(),
        spec.alertOutputs(),
        spec.ruleStatusOutputs(),
        spec.derivedOutputs(),
        spec.deadLetterOutputs(),
        conf);
  }
}
