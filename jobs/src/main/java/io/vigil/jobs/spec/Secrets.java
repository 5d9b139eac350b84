package io.vigil.jobs.spec;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of spec files and out of anything printed.
 *
 * <p>A spec refers to a secret as {@code ${env:NAME}}; it is resolved from the environment when the
 * spec is compiled, so the file itself can be committed. Values of properties whose names look
 * secret (password, secret, jaas, token, key but not key.serializer-like names) are replaced by
 * {@code ******} whenever a spec or a connector setting is printed or put in an exception.
 */
public final class Secrets {

  private static final Pattern REFERENCE = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");
  private static final Pattern SECRET_NAME =
      Pattern.compile("(?i).*(password|secret|jaas|token|credential|private|(^|[._])key$).*");

  private Secrets() {}

  /** Whether a property with this name holds a secret. */
  public static boolean isSecret(String propertyName) {
    return SECRET_NAME.matcher(propertyName).matches();
  }

  /** The properties with secret values masked, sorted by name. */
  public static Map<String, String> redact(Map<String, String> properties) {
    Map<String, String> shown = new TreeMap<>();
    properties.forEach((k, v) -> shown.put(k, isSecret(k) ? "******" : v));
    return shown;
  }

  /**
   * Replaces each {@code ${env:NAME}} in {@code value} with the variable's value. Returns null when
   * a variable is not set, after reporting its name (never a value) to {@code missing}.
   */
  static String resolve(String value, Function<String, String> env, java.util.function.Consumer<String> missing) {
    Matcher m = REFERENCE.matcher(value);
    StringBuilder out = new StringBuilder();
    boolean ok = true;
    while (m.find()) {
      String resolved = env.apply(m.group(1));
      if (resolved == null) {
        missing.accept(m.group(1));
        ok = false;
        resolved = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(resolved));
    }
    m.appendTail(out);
    return ok ? out.toString() : null;
  }
}
