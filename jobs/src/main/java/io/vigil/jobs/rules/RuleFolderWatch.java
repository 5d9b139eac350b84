package io.vigil.jobs.rules;

import io.vigil.cep.RuleLibrary;
import io.vigil.cep.rule.Rule;
import io.vigil.cep.rule.RuleException;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the changes of a rules folder into {@link RuleCommand}s, one scan at a time.
 *
 * <p>A rule file is {@code <name>.yaml} (enabled) or {@code <name>.yaml.disabled}. Against what
 * the previous scans saw ({@link #known()}, which the watcher source checkpoints):
 *
 * <ul>
 *   <li>a new {@code .yaml} file: ADD;
 *   <li>a changed file: UPDATE (the engine accepts it only with a higher version; with the same
 *       version it answers with a rejected status and the old version stays in force);
 *   <li>renamed to {@code .yaml.disabled}: DISABLE; renamed back: ENABLE (then UPDATE if it was
 *       edited meanwhile);
 *   <li>removed: DELETE;
 *   <li>a file whose rule id changed: DELETE of the old id, ADD of the new.
 * </ul>
 *
 * An invalid file is still sent (ADD or UPDATE), so the engine rejects it with a RuleStatus that
 * says why, where rule changes are reported; it is not sent again until it changes. Each file is
 * checked here too ({@link JobRules}), so the watcher knows which rules the engine holds: a fixed
 * file that never made it into the engine is sent as an ADD, not an UPDATE.
 *
 * <p>A folder that cannot be listed (missing, unmounted) yields no commands: a vanished folder
 * must not delete every rule. A file that disappears between listing and reading is looked at
 * again in the next scan.
 */
public final class RuleFolderWatch {

  private static final Logger LOG = LoggerFactory.getLogger(RuleFolderWatch.class);
  static final String ENABLED = ".yaml";
  static final String DISABLED = ".yaml.disabled";

  /**
   * What the watcher knows of one file, by its enabled name ({@code x.yaml}).
   *
   * @param ruleId the rule the engine holds from this file, or null when none (never valid)
   * @param version the version of that rule in force (0 when none)
   * @param enabled whether the file was last seen enabled
   * @param hash SHA-256 of the content last sent (or, for a disabled file, last seen enabled)
   */
  public record Known(String ruleId, int version, boolean enabled, String hash) {}

  private record Found(Path path, boolean enabled, String yaml, String hash) {}

  private final Path folder;
  private final Set<String> eventTypes;
  private final String keyField;
  private final Map<String, Known> known;

  /**
   * @param known what earlier scans saw (empty for a job's first start)
   */
  public RuleFolderWatch(Path folder, Set<String> eventTypes, String keyField, Map<String, Known> known) {
    this.folder = folder;
    this.eventTypes = eventTypes;
    this.keyField = keyField;
    this.known = new TreeMap<>(known);
  }

  /** What the scans so far saw: the state to checkpoint. */
  public Map<String, Known> known() {
    return Map.copyOf(known);
  }

  /** Scans the folder once; returns the commands for what changed since the last scan, in file-name order. */
  public List<RuleCommand> scan() {
    Map<String, Found> found = new TreeMap<>();
    try (Stream<Path> files = Files.list(folder)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        String name = file.getFileName().toString();
        boolean enabled = name.endsWith(ENABLED);
        if (!enabled && !name.endsWith(DISABLED)) {
          continue;
        }
        String base = enabled ? name : name.substring(0, name.length() - ".disabled".length());
        if (!enabled && found.containsKey(base)) {
          continue;  // x.yaml and x.yaml.disabled both present: the enabled one counts
        }
        try {
          String yaml = Files.readString(file, StandardCharsets.UTF_8);
          found.put(base, new Found(file, enabled, yaml, sha256(yaml)));
        } catch (NoSuchFileException e) {
          // Renamed or removed while this scan ran: the next scan sees where it went.
          Known k = known.get(base);
          if (k != null) {
            found.put(base, null);
          }
        }
      }
    } catch (IOException e) {
      LOG.warn("Cannot list the rules folder {}; no rule changes from it until it can be read: {}", folder, e.toString());
      return List.of();
    }
    List<RuleCommand> out = new ArrayList<>();
    Set<String> names = new TreeSet<>(known.keySet());
    names.addAll(found.keySet());
    for (String base : names) {
      if (found.containsKey(base) && found.get(base) == null) {
        continue;
      }
      Known next = step(base, known.get(base), found.get(base), out);
      if (next == null) {
        known.remove(base);
      } else {
        known.put(base, next);
      }
    }
    return out;
  }

  private Known step(String base, Known k, Found f, List<RuleCommand> out) {
    if (f == null) {
      if (k.ruleId() != null) {
        out.add(command(RuleAction.DELETE, k.ruleId(), folder.resolve(base)));
      }
      return null;
    }
    if (!f.enabled()) {
      if (k == null) {
        return new Known(null, 0, false, f.hash());
      }
      if (k.ruleId() != null && k.enabled()) {
        out.add(command(RuleAction.DISABLE, k.ruleId(), f.path()));
      }
      return new Known(k.ruleId(), k.version(), false, k.hash());
    }
    if (k == null || k.ruleId() == null) {
      if (k != null && k.enabled() && f.hash().equals(k.hash())) {
        return k;  // an invalid file, unchanged: its rejection was reported already
      }
      return add(f, out);
    }
    Known now = k;
    if (!k.enabled()) {
      out.add(command(RuleAction.ENABLE, k.ruleId(), f.path()));
      now = new Known(k.ruleId(), k.version(), true, k.hash());
    }
    if (f.hash().equals(k.hash())) {
      return now;
    }
    Rule rule = valid(f);
    if (rule != null && !rule.id().equals(k.ruleId())) {
      out.add(command(RuleAction.DELETE, k.ruleId(), f.path()));
      return add(f, out);
    }
    RuleCommand update = RuleLibrary.add(f.yaml(), f.path().toString());
    update.setAction(RuleAction.UPDATE);
    out.add(update);
    if (rule != null && rule.version() > k.version()) {
      return new Known(k.ruleId(), rule.version(), true, f.hash());
    }
    return new Known(k.ruleId(), k.version(), true, f.hash());
  }

  private Known add(Found f, List<RuleCommand> out) {
    out.add(RuleLibrary.add(f.yaml(), f.path().toString()));
    Rule rule = valid(f);
    return rule == null ? new Known(null, 0, true, f.hash()) : new Known(rule.id(), rule.version(), true, f.hash());
  }

  private Rule valid(Found f) {
    try {
      return JobRules.check(f.yaml(), eventTypes, keyField);
    } catch (RuleException e) {
      LOG.warn("Rule file {} is not valid; the rule engine will reject it: {}", f.path(), e.getMessage());
      return null;
    }
  }

  private static RuleCommand command(RuleAction action, String ruleId, Path source) {
    return new RuleCommand(action, ruleId, null, null, source.toString());
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
