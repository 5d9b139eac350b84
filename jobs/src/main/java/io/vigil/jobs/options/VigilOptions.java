package io.vigil.jobs.options;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;

/**
 * Every Vigil job setting, in one place. Set them in a spec's {@code settings:} section (or, for
 * the CLI, with {@code -D key=value}); README.md lists them with their defaults, and a test keeps
 * that list complete.
 *
 * <p>A spec's {@code settings:} may also carry any Flink option ({@code execution.checkpointing.*},
 * {@code state.backend.*}, ...); Vigil passes those through unchanged.
 */
public final class VigilOptions {

  public static final ConfigOption<Integer> MAX_PARALLELISM =
      key("vigil.max-parallelism")
          .intType()
          .defaultValue(128)
          .withDescription(
              "Maximum parallelism (number of key groups) of every keyed operator. It bounds how far"
                  + " the job can later be rescaled from a savepoint and must not change between"
                  + " restores.");

  public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
      key("vigil.checkpoint.interval")
          .durationType()
          .defaultValue(Duration.ofSeconds(10))
          .withDescription(
              "How often to checkpoint. Exactly-once Kafka outputs become visible to read_committed"
                  + " consumers when a checkpoint completes, so this is also the output latency.");

  public static final ConfigOption<String> CHECKPOINT_DIR =
      key("vigil.checkpoint.dir")
          .stringType()
          .noDefaultValue()
          .withDescription(
              "Where checkpoints go (a file:// or object-store URI). Without it, a local run keeps"
                  + " them in a temporary directory.");

  public static final ConfigOption<Duration> KAFKA_TRANSACTION_TIMEOUT =
      key("vigil.kafka.transaction-timeout")
          .durationType()
          .defaultValue(Duration.ofMinutes(10))
          .withDescription(
              "transaction.timeout.ms of exactly-once Kafka outputs that do not set their own. Must"
                  + " be below the broker's transaction.max.timeout.ms and well above the checkpoint"
                  + " interval plus the time a restart takes.");

  public static final ConfigOption<Boolean> KAFKA_VERIFY_TRANSACTION_TIMEOUT =
      key("vigil.kafka.verify-transaction-timeout")
          .booleanType()
          .defaultValue(true)
          .withDescription(
              "Before starting, ask each exactly-once output's broker for transaction.max.timeout.ms"
                  + " and refuse to start if the output's transaction timeout exceeds it.");

  public static final ConfigOption<Duration> RULES_FOLDER_POLL_INTERVAL =
      key("vigil.rules.folder-poll-interval")
          .durationType()
          .defaultValue(Duration.ofSeconds(2))
          .withDescription(
              "How often a watched rules folder (rules.folder with rules.watch) is scanned for"
                  + " added, changed, renamed and removed rule files while the job runs.");

  public static final ConfigOption<Double> RULES_MIN_SCORE =
      key("vigil.rules.min-score")
          .doubleType()
          .defaultValue(0.5)
          .withDescription(
              "Anomaly scores below this do not enter the rule engine (rules that read"
                  + " AnomalyScore see only scores at or above it). Most scores are low, and every"
                  + " event the engine takes costs every rule's NFA a step, so this keeps rules"
                  + " over scores cheap; 0 sends every score.");

  private VigilOptions() {}

  /** All options, in the order README.md lists them. */
  public static List<ConfigOption<?>> all() {
    return List.of(
        MAX_PARALLELISM,
        CHECKPOINT_INTERVAL,
        CHECKPOINT_DIR,
        KAFKA_TRANSACTION_TIMEOUT,
        KAFKA_VERIFY_TRANSACTION_TIMEOUT,
        RULES_FOLDER_POLL_INTERVAL,
        RULES_MIN_SCORE);
  }
}
