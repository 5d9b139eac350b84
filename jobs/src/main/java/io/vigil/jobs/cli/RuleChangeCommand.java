package io.vigil.jobs.cli;

import io.vigil.cep.RuleLibrary;
import io.vigil.cep.rule.Rule;
import io.vigil.cep.rule.RuleException;
import io.vigil.jobs.rules.JobRules;
import io.vigil.jobs.spec.CompiledSpec;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vigil rule add|update|disable|enable|delete <spec> [--file rule.yaml | --id ruleId]}:
 * changes a rule of a running job.
 *
 * <p>An ADD or UPDATE is first checked here as the job's rule engine will check it (it compiles,
 * reads only event types the job's rules receive, is keyed by the job's key): an invalid rule is
 * reported with the rule, the line and the problem, and nothing is sent or written. Then:
 *
 * <ul>
 *   <li>a spec with {@code rules.controlTopic}: the change is sent as a {@link RuleCommand} (Avro
 *       single-object encoding, keyed by rule id) to that topic on the spec's Kafka, with the
 *       input's client properties: exactly what the job reads;
 *   <li>otherwise, a spec with {@code rules.folder}: the change is made to the folder the job
 *       watches: ADD writes {@code <id>.yaml}, UPDATE replaces the rule's file, DISABLE renames it
 *       to {@code .yaml.disabled}, ENABLE renames it back, DELETE removes it.
 * </ul>
 *
 * It prints what it sent or changed; the job answers with a RuleStatus on its ruleStatus
 * outputs. Client properties (which may hold secrets) are never printed.
 */
@Command(
    name = "rule",
    description = "Add, update, disable, enable or delete a rule of a job: sent to the spec's"
        + " rules.controlTopic, or applied to its watched rules.folder.")
final class RuleChangeCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "ACTION", description = "add, update, disable, enable or delete.")
  String action;

  @Parameters(index = "1", paramLabel = "SPEC", description = "The job spec (YAML) whose rules to change.")
  Path specFile;

  @Option(names = "--file", paramLabel = "RULE_YAML", description = "The rule document (add, update; or names the rule for the others).")
  Path file;

  @Option(names = "--id", paramLabel = "RULE_ID", description = "The rule's id (disable, enable, delete).")
  String ruleId;

  @CommandLine.Spec CommandLine.Model.CommandSpec commandSpec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = commandSpec.commandLine().getOut();
    PrintWriter err = commandSpec.commandLine().getErr();
    RuleAction ruleAction;
    try {
      ruleAction = RuleAction.valueOf(action.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      err.println("unknown action '" + action + "'; expected add, update, disable, enable or delete");
      return 2;
    }
    // The folder may hold the very file this command is to fix or remove.
    Optional<CompiledSpec> compiled = CliSpecs.compileOrReport(specFile, false);
    if (compiled.isEmpty()) {
      return 2;
    }
    CompiledSpec spec = compiled.get();
    if (spec.rules().isEmpty() || (spec.rules().get().controlTopic() == null && spec.rules().get().folder() == null)) {
      err.println(specFile + ": the spec has no rules.controlTopic and no rules.folder, so its rules cannot change while it runs");
      return 2;
    }
    CompiledSpec.RuleSettings rules = spec.rules().get();

    String yaml = null;
    Rule rule = null;
    if (file != null) {
      yaml = Files.readString(file, StandardCharsets.UTF_8);
      if (ruleAction == RuleAction.ADD || ruleAction == RuleAction.UPDATE) {
        try {
          rule = JobRules.check(yaml, spec);
        } catch (RuleException e) {
          err.println(file + ": " + e.getMessage());
          err.println("nothing sent: the rule is not valid for job '" + spec.name() + "'");
          return 1;
        }
      }
    }
    String id;
    if (ruleAction == RuleAction.ADD || ruleAction == RuleAction.UPDATE) {
      if (rule == null) {
        err.println(action + " needs --file RULE_YAML");
        return 2;
      }
      id = rule.id();
    } else if (ruleId != null) {
      id = ruleId;
    } else if (yaml != null) {
      id = RuleLibrary.add(yaml, file.toString()).getRuleId();
    } else {
      err.println(action + " needs --id RULE_ID (or --file naming the rule)");
      return 2;
    }
    RuleCommand command =
        new RuleCommand(ruleAction, id, rule == null ? null : rule.version(), rule == null ? null : yaml, "vigil rule " + action);
    int exit = rules.controlTopic() != null ? send(command, rules, out, err) : changeFolder(command, rules, out, err);
    if (exit == 0) {
      for (CompiledSpec.Output o : spec.ruleStatusOutputs()) {
        out.println("  the job reports the outcome as a RuleStatus on " + describe(o));
      }
    }
    return exit;
  }

  private static int send(RuleCommand command, CompiledSpec.RuleSettings rules, PrintWriter out, PrintWriter err) throws IOException {
    Properties props = new Properties();
    props.putAll(rules.controlProperties());
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, rules.controlBootstrapServers());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
    ByteBuffer encoded = RuleCommand.getEncoder().encode(command);
    byte[] value = new byte[encoded.remaining()];
    encoded.get(value);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      // Keyed by rule id: one rule's commands stay in order on a topic with several partitions.
      RecordMetadata sent =
          producer
              .send(new ProducerRecord<>(rules.controlTopic(), command.getRuleId().getBytes(StandardCharsets.UTF_8), value))
              .get(60, TimeUnit.SECONDS);
      out.printf(
          "Sent %s of rule '%s'%s to topic '%s' at %s (partition %d, offset %d)%n",
          command.getAction(), command.getRuleId(), version(command), rules.controlTopic(), rules.controlBootstrapServers(),
          sent.partition(), sent.offset());
      return 0;
    } catch (Exception e) {
      err.println("could not send " + command.getAction() + " of rule '" + command.getRuleId() + "' to topic '"
          + rules.controlTopic() + "' at " + rules.controlBootstrapServers() + ": " + e);
      return 1;
    }
  }

  private static int changeFolder(RuleCommand command, CompiledSpec.RuleSettings rules, PrintWriter out, PrintWriter err) throws IOException {
    Path folder = rules.folder();
    Optional<Path> existing = fileOf(folder, command.getRuleId());
    String id = command.getRuleId();
    String done;
    switch (command.getAction()) {
      case ADD -> {
        Path target = folder.resolve(id + ".yaml");
        if (existing.isPresent() || Files.exists(target)) {
          err.println("rule '" + id + "' already has a file in " + folder + " (" + existing.orElse(target).getFileName() + "); use update");
          return 1;
        }
        write(target, command.getYaml());
        done = "wrote " + target;
      }
      case UPDATE -> {
        if (existing.isEmpty()) {
          err.println("no file of rule '" + id + "' in " + folder + "; use add");
          return 1;
        }
        Integer old = RuleLibrary.add(Files.readString(existing.get()), "").getVersion();
        if (old != null && command.getVersion() <= old) {
          err.println("rule '" + id + "' version " + command.getVersion() + " is not newer than version " + old + " in "
              + existing.get() + "; raise `version`. Nothing changed");
          return 1;
        }
        write(existing.get(), command.getYaml());
        done = "replaced " + existing.get();
      }
      case DISABLE, ENABLE -> {
        boolean disable = command.getAction() == RuleAction.DISABLE;
        String from = disable ? ".yaml" : ".yaml.disabled";
        if (existing.isEmpty() || !existing.get().getFileName().toString().endsWith(from)) {
          err.println("rule '" + id + "' has no " + (disable ? "enabled" : "disabled") + " file in " + folder
              + existing.map(p -> " (its file is " + p.getFileName() + ")").orElse(""));
          return 1;
        }
        String name = existing.get().getFileName().toString();
        Path target = existing.get().resolveSibling(disable ? name + ".disabled" : name.substring(0, name.length() - ".disabled".length()));
        Files.move(existing.get(), target, StandardCopyOption.ATOMIC_MOVE);
        done = "renamed " + existing.get() + " to " + target.getFileName();
      }
      case DELETE -> {
        if (existing.isEmpty()) {
          err.println("no file of rule '" + id + "' in " + folder);
          return 1;
        }
        Files.delete(existing.get());
        done = "removed " + existing.get();
      }
      default -> throw new IllegalStateException("unknown action " + command.getAction());
    }
    out.printf("%s of rule '%s'%s: %s%n", command.getAction(), id, version(command), done);
    if (rules.watch()) {
      out.println("  the running job picks the change up at its next scan of " + folder);
    } else {
      out.println("  the job does not watch " + folder + " (rules.watch: false): the change applies at its next start");
    }
    return 0;
  }

  /** The file in {@code folder} holding rule {@code id}, enabled or disabled. */
  private static Optional<Path> fileOf(Path folder, String id) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      List<Path> candidates =
          files.filter(f -> f.getFileName().toString().endsWith(".yaml") || f.getFileName().toString().endsWith(".yaml.disabled")).sorted().toList();
      for (Path f : candidates) {
        if (id.equals(RuleLibrary.add(Files.readString(f, StandardCharsets.UTF_8), f.toString()).getRuleId())) {
          return Optional.of(f);
        }
      }
    }
    return Optional.empty();
  }

  /** Writes whole or not at all: the watcher must never read half a rule. */
  private static void write(Path target, String yaml) throws IOException {
    Path temp = Files.createTempFile(target.getParent(), ".vigil-rule-", ".tmp");
    try {
      Files.writeString(temp, yaml, StandardCharsets.UTF_8);
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static String version(RuleCommand command) {
    return command.getVersion() == null ? "" : " version " + command.getVersion();
  }

  private static String describe(CompiledSpec.Output output) {
    if (output instanceof CompiledSpec.KafkaOutput k) {
      return "topic '" + k.topic() + "'";
    }
    if (output instanceof CompiledSpec.FileOutput f) {
      return f.path().toAbsolutePath().toString();
    }
    return "the job's console";
  }
}
