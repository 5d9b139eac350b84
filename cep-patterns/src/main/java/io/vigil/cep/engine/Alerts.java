package io.vigil.cep.engine;

import com.google.protobuf.NullValue;
import io.vigil.cep.cel.CelValues;
import io.vigil.cep.cel.CompiledExpression;
import io.vigil.cep.compile.CompiledRule;
import io.vigil.cep.rule.Rule;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AlertKind;
import io.vigil.schemas.DerivedEvent;
import io.vigil.schemas.MatchedEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;

/**
 * Builds alerts and derived events from a rule's (partial) match.
 *
 * <p>An alert's id is the hex SHA-256 of its kind, rule id, version, key and the matched events'
 * ids in match order: the same match always gets the same id, so a replay or a retried
 * transaction can be deduplicated downstream. An event's id is its {@code eventId} field, or
 * {@code topic/partition/offset} for event types without one.
 */
public final class Alerts {

  /** One digest per thread: looking up the algorithm costs more than hashing an alert's identity. */
  private static final ThreadLocal<MessageDigest> SHA_256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("SHA-256 is required of every JVM", e);
            }
          });

  private Alerts() {}

  /** The alert for a match ({@code time} = the last event's time) or a timeout ({@code time} = expiry). */
  public static Alert alert(
      CompiledRule compiled, AlertKind kind, String key, Map<String, List<GenericRecord>> match, long time) {
    Rule rule = compiled.rule();
    List<MatchedEvent> events = new ArrayList<>();
    Set<String> correlationIds = new LinkedHashSet<>();
    long last = Long.MIN_VALUE;
    for (String stage : compiled.stageNames()) {
      for (GenericRecord envelope : match.getOrDefault(stage, List.of())) {
        GenericRecord event = Envelopes.event(envelope);
        String correlationId = stringField(event, "correlationId");
        if (correlationId != null) {
          correlationIds.add(correlationId);
        }
        long eventTime = Envelopes.eventTime(envelope);
        last = Math.max(last, eventTime);
        events.add(
            MatchedEvent.newBuilder()
                .setStage(stage)
                .setEventType(event.getSchema().getName())
                .setEventId(eventId(envelope))
                .setEventTime(eventTime)
                .setCorrelationId(correlationId)
                .setSource(Envelopes.source(envelope))
                .build());
      }
    }
    StringBuilder identity = new StringBuilder()
        .append(kind).append('|').append(rule.id()).append('|').append(rule.version()).append('|').append(key);
    for (MatchedEvent e : events) {
      identity.append('|').append(e.getEventId());
    }
    return Alert.newBuilder()
        .setAlertId(sha256(identity.toString()))
        .setKind(kind)
        .setRuleId(rule.id())
        .setRuleVersion(rule.version())
        .setSeverity(rule.severity())
        .setDescription(rule.description())
        .setKey(key)
        .setTime(kind == AlertKind.MATCH ? last : time)
        .setEvents(events)
        .setCorrelationIds(new ArrayList<>(correlationIds))
        .build();
  }

  /** The derived event of {@code output} for {@code alert}; a field whose expression fails is null. */
  public static DerivedEvent derived(
      CompiledRule.DerivedOutput output, Alert alert, Map<String, List<GenericRecord>> match) {
    Set<String> wanted = new LinkedHashSet<>();
    for (CompiledExpression e : output.fields().values()) {
      wanted.addAll(e.stageVariables());
    }
    Map<String, Object> activation = new HashMap<>();
    for (Map.Entry<String, List<GenericRecord>> stage : match.entrySet()) {
      List<GenericRecord> events = new ArrayList<>();
      for (GenericRecord envelope : stage.getValue()) {
        events.add(Envelopes.event(envelope));
      }
      CelValues.putStage(activation, stage.getKey(), events, wanted);
    }
    // A timed-out match lacks the stages it never reached: they are empty lists.
    for (String variable : wanted) {
      activation.putIfAbsent(variable, List.of());
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    for (Map.Entry<String, CompiledExpression> f : output.fields().entrySet()) {
      Object value;
      try {
        value = avroValue(f.getValue().eval(activation));
      } catch (dev.cel.runtime.CelEvaluationException ex) {
        value = null;
      }
      fields.put(f.getKey(), value);
    }
    return DerivedEvent.newBuilder()
        .setEventId(sha256(alert.getAlertId() + "|" + output.spec().output()))
        .setOutput(output.spec().output())
        .setType(output.spec().type())
        .setRuleId(alert.getRuleId())
        .setRuleVersion(alert.getRuleVersion())
        .setKey(alert.getKey())
        .setTime(alert.getTime())
        .setCausedBy(alert.getAlertId())
        .setFields(fields)
        .build();
  }

  /** The id of an envelope's event: its {@code eventId} field, else its Kafka coordinates. */
  public static String eventId(GenericRecord envelope) {
    String id = stringField(Envelopes.event(envelope), "eventId");
    if (id != null) {
      return id;
    }
    return envelope.get(Envelopes.TOPIC) + "/" + envelope.get(Envelopes.PARTITION) + "/" + envelope.get(Envelopes.OFFSET);
  }

  private static String stringField(GenericRecord record, String name) {
    if (record.getSchema().getField(name) == null) {
      return null;
    }
    Object v = record.get(name);
    return v == null ? null : v.toString();
  }

  private static Object avroValue(Object cel) {
    if (cel == null || cel instanceof NullValue) {
      return null;
    }
    if (cel instanceof Long || cel instanceof Double || cel instanceof Boolean || cel instanceof String) {
      return cel;
    }
    if (cel instanceof Integer i) {
      return i.longValue();
    }
    return cel.toString();
  }

  static String sha256(String text) {
    return HexFormat.of().formatHex(SHA_256.get().digest(text.getBytes(StandardCharsets.UTF_8)));
  }
}
