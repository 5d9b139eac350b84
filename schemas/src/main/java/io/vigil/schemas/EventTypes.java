package io.vigil.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.Schema;

/**
 * The catalogue of input event types a job spec may name.
 *
 * <p>Each type has one current schema (the generated class's) and zero or more earlier versions
 * kept as resources under {@code io/vigil/schemas/history/<Type>-v<N>.avsc}. Readers decode with the
 * current schema; writers of any listed version are resolved to it by Avro schema resolution, so
 * every historical version must stay resolvable to the current one (a test checks it).
 */
public final class EventTypes {

  /** One event type: its current schema and the older writer schemas still accepted. */
  public record EventType(String name, Schema current, List<Schema> history) {
    /** Current schema first, then history, newest first. */
    public List<Schema> allVersions() {
      List<Schema> all = new ArrayList<>();
      all.add(current);
      all.addAll(history);
      return all;
    }
  }

  private static final Map<String, EventType> TYPES = new TreeMap<>();

  static {
    register(SensorReading.getClassSchema(), 1);
    register(Payment.getClassSchema(), 0);
    register(LoginAttempt.getClassSchema(), 0);
    register(OrderEvent.getClassSchema(), 0);
    register(UserActivity.getClassSchema(), 0);
  }

  private EventTypes() {}

  private static void register(Schema current, int historyVersions) {
    List<Schema> history = new ArrayList<>();
    for (int v = historyVersions; v >= 1; v--) {
      history.add(loadHistory(current.getName(), v));
    }
    TYPES.put(current.getName(), new EventType(current.getName(), current, List.copyOf(history)));
  }

  private static Schema loadHistory(String name, int version) {
    String resource = "history/" + name + "-v" + version + ".avsc";
    try (InputStream in = EventTypes.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing schema resource io/vigil/schemas/" + resource);
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The event type with this simple name (for example {@code SensorReading}), if known. */
  public static Optional<EventType> find(String name) {
    return Optional.ofNullable(TYPES.get(name));
  }

  /** Names of all known event types, sorted. */
  public static List<String> names() {
    return List.copyOf(TYPES.keySet());
  }
}
