package io.vigil.jobs;

import io.vigil.cep.engine.RuleCommands;
import io.vigil.cep.engine.RuleEngine;
import io.vigil.cep.engine.RuleEnvelopes;
import io.vigil.functions.anomaly.AnomalyScorer;
import io.vigil.functions.anomaly.DetectorSpec;
import io.vigil.functions.event.Envelopes;
import io.vigil.functions.event.avro.CompiledAvroTypeInfo;
import io.vigil.functions.ingest.DeadLetterRouter;
import io.vigil.functions.ingest.EnvelopeWatermarks;
import io.vigil.functions.metrics.CountingMap;
import io.vigil.functions.window.AggregationSpec;
import io.vigil.functions.window.GroupKeySelector;
import io.vigil.functions.window.WindowAggregator;
import io.vigil.jobs.options.VigilOptions;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.jobs.connectors.Connectors;
import io.vigil.jobs.rules.JobRules;
import io.vigil.jobs.rules.RuleFolderSource;
import io.vigil.jobs.rules.RuleInputs;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.DeadLetter;
import io.vigil.schemas.WindowAggregate;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.state.rocksdb.RocksDBOptions;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A Vigil job: the pipeline a {@link CompiledSpec} describes, between a source of envelopes and
 * the sinks it is given.
 *
 * <pre>
 * source (decode + validate, per-partition watermarks)
 *   -> route: valid events on, failed ones to dead letters
 *   -> per aggregation: keyBy(group) -> window aggregator (late events to dead letters)
 *   -> per detector: keyBy(key or group) -> anomaly scorer
 *   -> rules: keyBy(key) -> rule engine over events and key-keyed scores, with rule commands
 *      (spec rules at start, control topic, watched folder) broadcast to it
 *   -> aggregates, scores, alerts, statuses, derived events -> their sinks
 *   -> dead letters (ingest, late, unscorable, late for rules) -> dead-letter sinks
 * </pre>
 *
 * <p>Sources and sinks are arguments (tests pass bounded sources and collecting sinks; the CLI
 * passes Kafka, files and the console). {@link #build} also applies the settings every Vigil job
 * runs with: explicit uids only, no Kryo, an explicit max parallelism, RocksDB with incremental
 * checkpoints, and checkpointing on.
 */
public final class VigilJob {

  private final CompiledSpec spec;
  private final Source<GenericRecord, ?, ?> source;
  private final JobSinks sinks;
  private final int sourceParallelism;
  private final boolean continuous;

  /**
   * @param source a source of envelopes for {@code spec}'s event type (see {@link Envelopes})
   */
  public VigilJob(CompiledSpec spec, Source<GenericRecord, ?, ?> source, JobSinks sinks) {
    this(spec, source, sinks, -1, source.getBoundedness() == Boundedness.CONTINUOUS_UNBOUNDED);
  }

  private VigilJob(CompiledSpec spec, Source<GenericRecord, ?, ?> source, JobSinks sinks, int sourceParallelism, boolean continuous) {
    this.spec = spec;
    this.source = source;
    this.sinks = sinks;
    this.sourceParallelism = sourceParallelism;
    this.continuous = continuous;
  }

  /**
   * This job with its source (and the validation chained to it) at a fixed parallelism: for
   * sources whose records must come from one reader to stay in event-time order, such as the demo
   * generator, which numbers its records globally.
   */
  public VigilJob withSourceParallelism(int parallelism) {
    return new VigilJob(spec, source, sinks, parallelism, continuous);
  }

  /**
   * This job, running until cancelled or not. A continuous job keeps reading rule changes (the
   * control topic, the watched rules folder); a bounded one reads the control topic up to its end
   * at start and the folder once, so it ends with its input. Default: continuous when the source
   * is unbounded. The endless demo generator is a bounded source that never ends, hence this.
   */
  public VigilJob continuous(boolean continuous) {
    return new VigilJob(spec, source, sinks, sourceParallelism, continuous);
  }

  /** The settings {@link #build} applies: Vigil's defaults, then the spec's {@code settings:}. */
  public static Configuration jobConfiguration(CompiledSpec spec) {
    Configuration conf = new Configuration();
    conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
    conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
    // Vigil's keyed operators hold a few timers per key (window fire and cleanup, session moves,
    // idle cleanup); on the heap they cost far less than RocksDB writes per event.
    conf.set(RocksDBOptions.TIMER_SERVICE_FACTORY, EmbeddedRocksDBStateBackend.PriorityQueueStateType.HEAP);
    // Safe: no Vigil operator keeps or mutates a record after passing it on.
    conf.set(PipelineOptions.OBJECT_REUSE, true);
    conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, spec.configuration().get(VigilOptions.CHECKPOINT_INTERVAL));
    spec.configuration().getOptional(VigilOptions.CHECKPOINT_DIR)
        .ifPresent(dir -> conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir));
    conf.addAll(spec.configuration());
    // Not overridable: a missing uid or a Kryo fallback must fail the build, not a later restore.
    conf.set(PipelineOptions.AUTO_GENERATE_UIDS, false);
    conf.set(PipelineOptions.GENERIC_TYPES, false);
    conf.set(PipelineOptions.MAX_PARALLELISM, spec.configuration().get(VigilOptions.MAX_PARALLELISM));
    return conf;
  }

  /**
   * The rule engine over the valid events (and the scores of {@link CompiledSpec#ruleDetectors},
   * when there are any): rules from the spec at start, then from the control topic and the
   * watched folder, if any; alerts, rule statuses and derived events to their sinks. Returns the
   * engine's dead letters (events behind its watermark).
   */
  private DataStream<DeadLetter> rules(
      StreamExecutionEnvironment env, DataStream<GenericRecord> valid, DataStream<AnomalyScore> scores, CompiledSpec.RuleSettings rules) {
    // One reader per source, so commands keep their order. The control topic's watermark is always
    // the maximum, so it never holds the events' back. The start-up rules and the folder declare
    // no watermark until their rules are out: the start-up rules' bounded source emits the maximum
    // when it finishes, the folder's reader after its first scan, so event time cannot pass an
    // event before those rules are in place (with a backlog in Kafka, events can reach the engine
    // first). The engine also starts with the start-up rules in force (on a fresh start), so
    // arrival-order rules see those first events too; their commands then only report statuses.
    List<RuleCommand> initial = rules.initial();
    DataStream<RuleCommand> commands = null;
    if (!initial.isEmpty()) {
      commands =
          env.fromSource(
                  new DataGeneratorSource<>(i -> initial.get(i.intValue()), initial.size(), RuleCommands.TYPE),
                  WatermarkStrategy.noWatermarks(),
                  Operators.RULE_COMMANDS.displayName(),
                  RuleCommands.TYPE)
              .setParallelism(1)
              .uid(Operators.RULE_COMMANDS.uid());
    }
    if (rules.controlTopic() != null) {
      DataStream<RuleCommand> control =
          env.fromSource(Connectors.ruleCommandSource(rules, spec.name(), !continuous), RuleCommands.watermarks(), Operators.RULE_CONTROL.displayName(), RuleCommands.TYPE)
              .setParallelism(1)
              .uid(Operators.RULE_CONTROL.uid());
      commands = commands == null ? control : commands.union(control);
    }
    if (rules.watchesFolder()) {
      RuleFolderSource watcher =
          new RuleFolderSource(
              rules.folder(),
              JobRules.eventTypeNames(spec),
              spec.decode().keyField(),
              spec.configuration().get(VigilOptions.RULES_FOLDER_POLL_INTERVAL),
              continuous);
      DataStream<RuleCommand> folder =
          env.fromSource(watcher, RuleFolderSource.watermarks(), Operators.RULE_FOLDER.displayName(), RuleCommands.TYPE)
              .setParallelism(1)
              .uid(Operators.RULE_FOLDER.uid());
      commands = commands == null ? folder : commands.union(folder);
    }
    Schema envelopeSchema = RuleEnvelopes.schema(spec.ruleEventSchemas());
    DataStream<GenericRecord> input = valid;
    if (scores != null) {
      // Network only (the rule engine keeps its state with Flink's Avro serializer).
      TypeInformation<GenericRecord> inputType = new CompiledAvroTypeInfo(envelopeSchema);
      DataStream<GenericRecord> events =
          valid
              .map(new RuleInputs.Events(envelopeSchema))
              .returns(inputType)
              .uid(Operators.RULE_INPUT_EVENTS.uid())
              .name(Operators.RULE_INPUT_EVENTS.displayName());
      DataStream<GenericRecord> scored =
          scores
              .flatMap(new RuleInputs.Scores(envelopeSchema, spec.configuration().get(VigilOptions.RULES_MIN_SCORE)))
              .returns(inputType)
              .uid(Operators.RULE_INPUT_SCORES.uid())
              .name(Operators.RULE_INPUT_SCORES.displayName());
      input = events.union(scored);
    }
    SingleOutputStreamOperator<Alert> alerts =
        input
            .keyBy(Envelopes::key, Types.STRING)
            .connect(commands.broadcast(RuleEngine.RULES))
            .process(new RuleEngine(envelopeSchema, spec.decode().keyField(), initial))
            .returns(RuleEngine.ALERT_TYPE)
            .uid(Operators.RULE_ENGINE.uid())
            .name(Operators.RULE_ENGINE.displayName());
    DataStream<Alert> counted =
        alerts
            .map(new CountingMap<Alert>("alerts", a -> a.getKind().name()))
            .returns(RuleEngine.ALERT_TYPE)
            .uid(Operators.COUNT_ALERTS.uid())
            .name(Operators.COUNT_ALERTS.displayName());
    sinkAll(counted, sinks.alerts(), Operators.ALERT_SINK);
    sinkAll(alerts.getSideOutput(RuleEngine.STATUS), sinks.ruleStatus(), Operators.RULE_STATUS_SINK);
    sinkAll(alerts.getSideOutput(RuleEngine.DERIVED), sinks.derived(), Operators.DERIVED_SINK);
    return alerts.getSideOutput(RuleEngine.DEAD_LETTERS);
  }

  private static <T> void sinkAll(DataStream<T> stream, List<NamedSink<T>> namedSinks, Operators operator) {
    for (NamedSink<T> sink : namedSinks) {
      stream.sinkTo(sink.sink()).uid(operator.uid(sink.id())).name(operator.displayName(sink.description()));
    }
  }

  /** Adds this job's pipeline to {@code env}. */
  public void build(StreamExecutionEnvironment env) {
    env.configure(jobConfiguration(spec));
    String eventType = spec.eventTypeName();
    TypeInformation<GenericRecord> envelopeType = Envelopes.typeInfo(spec.eventSchema());

    DataStreamSource<GenericRecord> sourced =
        env.fromSource(
            source,
            EnvelopeWatermarks.forEnvelopes(spec.maxOutOfOrderness(), spec.idleTimeout()),
            Operators.SOURCE.displayName(),
            envelopeType);
    sourced.uid(Operators.SOURCE.uid());
    SingleOutputStreamOperator<GenericRecord> envelopes =
        sourced
            .map(new CountingMap<GenericRecord>("events", e -> "in"))
            .returns(envelopeType)
            .uid(Operators.COUNT_IN.uid())
            .name(Operators.COUNT_IN.displayName());

    SingleOutputStreamOperator<GenericRecord> valid =
        envelopes
            .process(new DeadLetterRouter(eventType))
            .returns(envelopeType)
            .uid(Operators.ROUTE_DEAD_LETTERS.uid())
            .name(Operators.ROUTE_DEAD_LETTERS.displayName());
    if (sourceParallelism > 0) {
      sourced.setParallelism(sourceParallelism);
      envelopes.setParallelism(sourceParallelism);
      valid.setParallelism(sourceParallelism);
    }

    DataStream<DeadLetter> deadLetters = valid.getSideOutput(DeadLetterRouter.DEAD_LETTERS);
    DataStream<WindowAggregate> aggregates = null;
    for (AggregationSpec aggregation : spec.aggregations()) {
      SingleOutputStreamOperator<WindowAggregate> windowed =
          valid
              .keyBy(new GroupKeySelector(aggregation.groupBy()), Types.STRING)
              .process(new WindowAggregator(aggregation, eventType))
              .returns(new AvroTypeInfo<>(WindowAggregate.class))
              .uid(Operators.WINDOW.uid(aggregation.name()))
              .name(Operators.WINDOW.displayName(aggregation.name()));
      aggregates = aggregates == null ? windowed : aggregates.union(windowed);
      deadLetters =
          deadLetters.union(
              windowed.getSideOutput(WindowAggregator.LATE),
              windowed.getSideOutput(WindowAggregator.REJECTED));
    }

    if (aggregates != null) {
      DataStream<WindowAggregate> counted =
          aggregates
              .map(new CountingMap<WindowAggregate>("aggregates", a -> "out"))
              .returns(new AvroTypeInfo<>(WindowAggregate.class))
              .uid(Operators.COUNT_AGGREGATES.uid())
              .name(Operators.COUNT_AGGREGATES.displayName());
      for (NamedSink<WindowAggregate> sink : sinks.aggregates()) {
        counted.sinkTo(sink.sink())
            .uid(Operators.AGGREGATE_SINK.uid(sink.id()))
            .name(Operators.AGGREGATE_SINK.displayName(sink.description()));
      }
    }

    DataStream<AnomalyScore> scores = null;
    DataStream<AnomalyScore> ruleScores = null;
    for (DetectorSpec detector : spec.detectors()) {
      KeyedStream<GenericRecord, String> keyed =
          detector.groupBy().isEmpty()
              ? valid.keyBy(Envelopes::key, Types.STRING)
              : valid.keyBy(new GroupKeySelector(detector.groupBy()), Types.STRING);
      SingleOutputStreamOperator<AnomalyScore> scored =
          keyed
              .process(new AnomalyScorer(detector, eventType))
              .returns(new AvroTypeInfo<>(AnomalyScore.class))
              .uid(Operators.DETECTOR.uid(detector.name()))
              .name(Operators.DETECTOR.displayName(detector.name()));
      scores = scores == null ? scored : scores.union(scored);
      if (spec.ruleDetectors().contains(detector)) {
        ruleScores = ruleScores == null ? scored : ruleScores.union(scored);
      }
      deadLetters = deadLetters.union(scored.getSideOutput(AnomalyScorer.REJECTED));
    }
    if (scores != null) {
      DataStream<AnomalyScore> counted =
          scores
              .map(new CountingMap<AnomalyScore>("scores", a -> a.getAnomalous() ? "anomalous" : "normal"))
              .returns(new AvroTypeInfo<>(AnomalyScore.class))
              .uid(Operators.COUNT_SCORES.uid())
              .name(Operators.COUNT_SCORES.displayName());
      for (NamedSink<AnomalyScore> sink : sinks.scores()) {
        counted.sinkTo(sink.sink())
            .uid(Operators.SCORE_SINK.uid(sink.id()))
            .name(Operators.SCORE_SINK.displayName(sink.description()));
      }
    }

    if (spec.rules().isPresent()) {
      deadLetters = deadLetters.union(rules(env, valid, ruleScores, spec.rules().get()));
    }

    DataStream<DeadLetter> countedDeadLetters =
        deadLetters
            .map(new CountingMap<DeadLetter>("deadLetters", d -> d.getReason().name()))
            .returns(new AvroTypeInfo<>(DeadLetter.class))
            .uid(Operators.COUNT_DEAD_LETTERS.uid())
            .name(Operators.COUNT_DEAD_LETTERS.displayName());
    for (NamedSink<DeadLetter> sink : sinks.deadLetters()) {
      countedDeadLetters.sinkTo(sink.sink())
          .uid(Operators.DEAD_LETTER_SINK.uid(sink.id()))
          .name(Operators.DEAD_LETTER_SINK.displayName(sink.description()));
    }
  }
}
