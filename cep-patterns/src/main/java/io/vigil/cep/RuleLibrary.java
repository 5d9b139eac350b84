package io.vigil.cep;

import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The rules shipped with Vigil (resources under {@code io/vigil/rules/}) and rule folders for
 * local runs. Each is turned into an ADD {@link RuleCommand} for the engine's control input.
 */
public final class RuleLibrary {

  /** Shipped rules, by resource path under {@code io/vigil/rules/}. */
  public static final List<String> SHIPPED =
      List.of(
          "iot/temperature-rising.yaml",
          "iot/device-silent.yaml",
          "iot/battery-drop.yaml",
          "iot/anomaly-then-overheat.yaml",
          "payments/small-then-large.yaml",
          "payments/two-countries.yaml",
          "payments/account-takeover.yaml",
          "orders/payment-timeout.yaml",
          "activity/cart-abandonment.yaml");

  private RuleLibrary() {}

  /** The YAML text of a shipped rule, e.g. {@code iot/device-silent.yaml}. */
  public static String shipped(String path) {
    try (InputStream in = RuleLibrary.class.getResourceAsStream("/io/vigil/rules/" + path)) {
      if (in == null) {
        throw new IllegalArgumentException("no shipped rule " + path + "; shipped: " + SHIPPED);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** ADD commands for the shipped rules under {@code domain} ({@code iot}, {@code payments}, ...). */
  public static List<RuleCommand> shippedCommands(String domain) {
    List<RuleCommand> out = new ArrayList<>();
    for (String path : SHIPPED) {
      if (path.startsWith(domain + "/")) {
        out.add(add(shipped(path), "classpath:io/vigil/rules/" + path));
      }
    }
    return out;
  }

  /** ADD commands for every {@code *.yaml} file in {@code folder}, sorted by file name. */
  public static List<RuleCommand> folderCommands(Path folder) throws IOException {
    List<RuleCommand> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(folder)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        out.add(add(Files.readString(file), file.toString()));
      }
    }
    return out;
  }

  /**
   * An ADD command for a rule document. The rule id and version are read leniently here; the
   * engine validates the document and rejects it, with a status, if they are missing.
   */
  public static RuleCommand add(String yaml, String source) {
    String id = "?";
    Integer version = null;
    for (String line : yaml.split("\n")) {
      if (line.startsWith("id:")) {
        id = line.substring(3).trim();
      } else if (line.startsWith("version:")) {
        try {
          version = Integer.parseInt(line.substring(8).trim());
        } catch (NumberFormatException e) {
          version = null;
        }
      }
    }
    return new RuleCommand(RuleAction.ADD, id, version, yaml, source);
  }
}
