package io.vigil.cep.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.cep.compile.RuleCompiler;
import io.vigil.cep.rule.RuleException;
import io.vigil.functions.event.Envelopes;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AlertKind;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.RuleAction;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.SensorReading;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.functions.TimedOutPartialMatchHandler;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.nfa.compiler.NFACompiler;
import org.apache.flink.cep.operator.CepOperator;
import org.apache.flink.cep.pattern.MalformedPatternException;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.WithinType;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
import org.apache.flink.formats.avro.typeutils.GenericRecordAvroTypeInfo;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;

/**
 * Equivalence with Flink CEP: random rules over the whole pattern feature list (contiguities,
 * negations, quantifiers, optional, greedy, consecutive, allowCombinations, until, groups, both
 * {@code within} kinds, every after-match skip strategy) and random event streams with ties and
 * bounded disorder. For each case the rule's YAML goes through the dynamic engine, and an
 * independently built Java {@link Pattern} with Java conditions through Flink's own {@link
 * CepOperator}; matches and timeouts must be the same multiset. One key per case. A second family
 * generates only simple sequences, which the engine runs on {@link SequenceMatcher} instead of the
 * NFA, and checks that every one of them did; with matches only, their order must be the same too.
 *
 * <p>{@code -Dvigil.equivalence.cases=N} (default 1000, per family) and {@code
 * -Dvigil.equivalence.seed=S} (default fixed) run a larger sweep or reproduce a failure; {@code
 * -Dvigil.equivalence.only=C} runs only case C of that seed.
 */
class RuleEngineEquivalenceTest {

  private static final Schema ENVELOPE = Envelopes.schema(SensorReading.getClassSchema());
  private static final OutputTag<String> TIMEOUTS = new OutputTag<>("timeouts", Types.STRING);

  /** One generated condition: its CEL text and the same predicate in Java. */
  private record Cond(String cel, Pred java) implements java.io.Serializable {}

  @FunctionalInterface
  private interface Pred extends java.io.Serializable {
    boolean test(GenericRecord event, IterativeCondition.Context<GenericRecord> ctx) throws Exception;
  }

  /** A generated stage: a leaf (cond set) or a group (members set). */
  private static final class Gen {
    String name;
    String after;
    Cond cond;
    Cond until;
    List<Gen> members = new ArrayList<>();
    String quant = "once";
    int n;
    int m;
    boolean optional;
    boolean greedy;
    boolean consecutive;
    boolean combinations;
  }

  private static final class Case {
    List<Gen> stages = new ArrayList<>();
    List<String> leaves = new ArrayList<>();
    Long within;
    boolean previousAndCurrent;
    String skip;
    String skipStage;
    boolean nonDeterministic;
    /** Whether the rule alerts on timeouts too (with a window); the oracle then reports them. */
    boolean timeouts = true;
  }

  /** What a run of cases compared. */
  private static final class Tally {
    int valid;
    int invalid;
    int withMatches;
    int withTimeouts;
    int sequences;
  }

  @Test
  void dynamicEngineProducesExactlyFlinkCepMatchesAndTimeouts() throws Exception {
    int wanted = Integer.getInteger("vigil.equivalence.cases", 1000);
    long seed = Long.getLong("vigil.equivalence.seed", 20261126L);
    int only = Integer.getInteger("vigil.equivalence.only", -1);
    Random random = new Random(seed);
    Tally t = new Tally();
    for (int attempt = 0; t.valid < wanted; attempt++) {
      compare(generate(random), random, seed, attempt, only, t);
    }
    System.out.printf(
        "equivalence: %d valid cases (%d with matches, %d with timeouts, %d simple sequences), %d invalid patterns rejected by both, seed %d%n",
        t.valid, t.withMatches, t.withTimeouts, t.sequences, t.invalid, seed);
    if (only >= 0) {
      return;
    }
    // The generator must exercise matches and timeouts, or the comparison proves little.
    assertThat(t.withMatches).isGreaterThan(wanted / 3);
    assertThat(t.withTimeouts).isGreaterThan(wanted / 20);
  }

  /**
   * The same comparison for simple sequences only ({@link SequenceMatcher}'s rules: single-event
   * stages joined by {@code next} or {@code followedBy}, no or a first-and-last window, matches
   * only, every skip strategy), so the engine's fast path meets every case shape it takes. Case
   * numbers start at 1,000,000 ({@code -Dvigil.equivalence.only} replays one of them too).
   */
  @Test
  void simpleSequencesRunWithoutTheNfaAndProduceExactlyFlinkCepMatches() throws Exception {
    int wanted = Integer.getInteger("vigil.equivalence.cases", 1000);
    long seed = Long.getLong("vigil.equivalence.seed", 20261126L);
    int only = Integer.getInteger("vigil.equivalence.only", -1);
    Random random = new Random(seed + 1);
    Tally t = new Tally();
    for (int attempt = 1_000_000; t.valid < wanted; attempt++) {
      compare(generateSequence(random), random, seed, attempt, only, t);
    }
    System.out.printf(
        "equivalence of simple sequences: %d valid cases (%d with matches, %d run by SequenceMatcher), %d invalid, seed %d%n",
        t.valid, t.withMatches, t.sequences, t.invalid, seed);
    if (only >= 0) {
      return;
    }
    assertThat(t.sequences).as("cases the engine ran without the NFA").isEqualTo(t.valid);
    assertThat(t.withMatches).isGreaterThan(wanted / 3);
  }

  /**
   * Arrival order ({@code order: arrival}): random simple sequences against Flink's {@link
   * CepOperator} in processing time, with the harness's processing time set to each event's time
   * before it arrives, so Flink matches in arrival order with the window counted in event time, as
   * the engine's arrival order promises. Events come in time order (ties in arrival order), where
   * the two definitions of time agree; watermarks still reach the engine, whose expiry timers must
   * change nothing. Matches and their order must be the same. Case numbers start at 2,000,000.
   */
  @Test
  void arrivalOrderSequencesMatchExactlyAsFlinkCepInProcessingTime() throws Exception {
    int wanted = Integer.getInteger("vigil.equivalence.cases", 1000);
    long seed = Long.getLong("vigil.equivalence.seed", 20261126L);
    int only = Integer.getInteger("vigil.equivalence.only", -1);
    Random random = new Random(seed + 2);
    int valid = 0;
    int withMatches = 0;
    int invalid = 0;
    for (int attempt = 2_000_000; valid < wanted; attempt++) {
      Case c = generateSequence(random);
      String yaml = yaml(c, attempt).replace("key: deviceId\n", "key: deviceId\norder: arrival\n");
      Pattern<GenericRecord, GenericRecord> pattern = null;
      NFACompiler.NFAFactory<GenericRecord> factory = null;
      try {
        pattern = oracle(c);
        factory = NFACompiler.compileFactory(pattern, false);
        factory.createNFA();
      } catch (MalformedPatternException | IllegalArgumentException | UnsupportedOperationException e) {
        factory = null;
      }
      boolean ours;
      try {
        assertThat(SequenceMatcher.of(RuleCompiler.compile(yaml)).arrival()).isTrue();
        ours = true;
      } catch (RuleException e) {
        ours = false;
      }
      assertThat(ours).as("seed %d case %d\n%s", seed, attempt, yaml).isEqualTo(factory != null);
      if (!ours) {
        invalid++;
        continue;
      }
      List<Object[]> events = new ArrayList<>(events(random, "case-" + attempt, c.within != null));
      events.sort(java.util.Comparator.comparingLong(e -> (Long) e[0]));
      valid++;
      if (only >= 0 && attempt != only) {
        continue;
      }
      List<String> expected = runProcessingTimeOracle(c, pattern, factory, events);
      List<String> actual = runEngine(yaml, events, c.within != null);
      assertThat(actual).as("seed %d case %d\n%s\nevents %s", seed, attempt, yaml, describe(events)).isEqualTo(expected);
      if (!expected.isEmpty()) {
        withMatches++;
      }
    }
    System.out.printf(
        "equivalence in arrival order: %d valid cases (%d with matches), %d invalid, seed %d%n", valid, withMatches, invalid, seed);
    if (only < 0) {
      assertThat(withMatches).isGreaterThan(wanted / 3);
    }
  }

  /** Runs one generated case through the engine and through CepOperator and compares them. */
  private static void compare(Case c, Random random, long seed, int attempt, int only, Tally t) throws Exception {
    String yaml = yaml(c, attempt);
    boolean ours;
    boolean sequence = false;
    String ourError = null;
    try {
      sequence = SequenceMatcher.of(RuleCompiler.compile(yaml)) != null;
      ours = true;
    } catch (RuleException e) {
      ours = false;
      ourError = e.getMessage();
    }
    NFACompiler.NFAFactory<GenericRecord> oracleFactory = null;
    Pattern<GenericRecord, GenericRecord> oraclePattern = null;
    String oracleError = null;
    try {
      oraclePattern = oracle(c);
      oracleFactory = NFACompiler.compileFactory(oraclePattern, c.within != null && c.timeouts);
      oracleFactory.createNFA();
    } catch (MalformedPatternException | IllegalArgumentException | UnsupportedOperationException e) {
      oracleError = e.getMessage();
    }
    assertThat(ours)
        .as("seed %d case %d: Vigil %s, Flink %s\n%s", seed, attempt, ourError, oracleError, yaml)
        .isEqualTo(oracleError == null);
    if (!ours) {
      t.invalid++;
      return;
    }
    List<Object[]> events = events(random, "case-" + attempt, c.within != null && !c.nonDeterministic);
    if (only >= 0 && attempt != only) {
      t.valid++;
      return;
    }
    List<String> expected = runOracle(c, oraclePattern, oracleFactory, events);
    List<String> actual = runEngine(yaml, events, c.within != null && !c.previousAndCurrent);
    if (c.timeouts) {
      // Timeouts come on a side output in Flink and interleaved with matches here.
      Collections.sort(expected);
      Collections.sort(actual);
    }
    assertThat(actual).as("seed %d case %d\n%s\nevents %s", seed, attempt, yaml, describe(events)).isEqualTo(expected);
    t.valid++;
    if (sequence) {
      t.sequences++;
    }
    if (expected.stream().anyMatch(s -> s.startsWith("M"))) {
      t.withMatches++;
    }
    if (expected.stream().anyMatch(s -> s.startsWith("T"))) {
      t.withTimeouts++;
    }
  }

  // ---- generator ----

  private static Case generate(Random r) {
    Case c = new Case();
    int count = 1 + r.nextInt(4);
    for (int i = 0; i < count; i++) {
      Gen g;
      if (r.nextInt(6) == 0) {
        g = new Gen();
        int members = 2;
        for (int j = 0; j < members; j++) {
          Gen leaf = leaf(r, c, j == 0 ? null : pick(r, "next", "followedBy", "followedByAny"), false);
          g.members.add(leaf);
        }
        String[] gq = {"once", "times", "oneOrMore", "once"};
        g.quant = gq[r.nextInt(gq.length)];
        g.n = 2;
        g.optional = r.nextInt(4) == 0;
        if (i > 0) {
          g.after = pick(r, "next", "followedBy", "followedByAny");
          c.nonDeterministic |= g.after.equals("followedByAny");
        }
      } else {
        String after = i == 0 ? null : pick(r, "next", "followedBy", "followedByAny", "notNext", "notFollowedBy", "followedBy");
        g = leaf(r, c, after, true);
      }
      c.stages.add(g);
    }
    if (r.nextBoolean()) {
      c.within = 2L + r.nextInt(12);
      c.previousAndCurrent = r.nextInt(3) == 0;
    }
    c.skip = pick(r, "no-skip", "skip-to-next", "skip-past-last-event", "skip-to-first", "skip-to-last");
    if (c.skip.startsWith("skip-to-f") || c.skip.startsWith("skip-to-l")) {
      c.skipStage = c.leaves.get(r.nextInt(c.leaves.size()));
    }
    return c;
  }

  /** A simple sequence: 1-4 single-event stages, {@code next} or {@code followedBy}, matches only. */
  private static Case generateSequence(Random r) {
    Case c = new Case();
    c.timeouts = false;
    int count = 1 + r.nextInt(4);
    for (int i = 0; i < count; i++) {
      c.stages.add(leaf(r, c, i == 0 ? null : pick(r, "next", "followedBy"), false));
    }
    if (r.nextInt(4) != 0) {
      c.within = 2L + r.nextInt(12);
    }
    c.skip = pick(r, "no-skip", "skip-to-next", "skip-past-last-event", "skip-to-first", "skip-to-last", "skip-past-last-event");
    if (c.skip.startsWith("skip-to-f") || c.skip.startsWith("skip-to-l")) {
      c.skipStage = c.leaves.get(r.nextInt(c.leaves.size()));
    }
    return c;
  }

  private static Gen leaf(Random r, Case c, String after, boolean mayQuantify) {
    Gen g = new Gen();
    g.name = "s" + c.leaves.size();
    g.after = after;
    c.nonDeterministic |= "followedByAny".equals(after);
    boolean negative = "notNext".equals(after) || "notFollowedBy".equals(after);
    c.leaves.add(g.name);
    g.cond = condition(r, c, g.name, true);
    if (r.nextInt(3) == 0) {
      Cond second = condition(r, c, g.name, true);
      Cond first = g.cond;
      g.cond = new Cond("(" + first.cel() + ") && (" + second.cel() + ")", (e, x) -> first.java().test(e, x) && second.java().test(e, x));
    }
    if (negative || !mayQuantify || r.nextBoolean()) {
      return g;
    }
    switch (r.nextInt(5)) {
      case 0 -> {
        g.quant = "times";
        g.n = 1 + r.nextInt(3);
      }
      case 1 -> {
        g.quant = "range";
        g.n = r.nextInt(2) + 1;
        g.m = g.n + 1 + r.nextInt(2);
      }
      case 2 -> g.quant = "oneOrMore";
      case 3 -> {
        g.quant = "timesOrMore";
        g.n = 2;
      }
      default -> g.quant = "once";
    }
    g.optional = r.nextInt(4) == 0;
    boolean looping = !g.quant.equals("once") && !(g.quant.equals("times") && g.n == 1);
    if (looping) {
      g.greedy = r.nextInt(6) == 0;
      int contiguity = r.nextInt(5);
      g.consecutive = contiguity == 0;
      g.combinations = contiguity == 1;
      c.nonDeterministic |= g.combinations;
      if ((g.quant.equals("oneOrMore") || g.quant.equals("timesOrMore")) && r.nextInt(4) == 0) {
        g.until = condition(r, c, g.name, false);
      }
    }
    return g;
  }

  private static Cond condition(Random r, Case c, String self, boolean iterative) {
    int k = r.nextInt(10);
    int kind = r.nextInt(iterative ? 8 : 4);
    String other = c.leaves.get(r.nextInt(c.leaves.size()));
    switch (kind) {
      case 0:
        return new Cond("temperature < " + k, (e, x) -> temp(e) < k);
      case 1:
        return new Cond("temperature >= " + k, (e, x) -> temp(e) >= k);
      case 2:
        return new Cond("status == 'OK'", (e, x) -> status(e).equals("OK"));
      case 3:
        return new Cond("status != 'FAULT'", (e, x) -> !status(e).equals("FAULT"));
      case 4:
        return new Cond(
            "temperature > last(" + other + ").temperature",
            (e, x) -> {
              List<GenericRecord> l = list(x, other);
              return !l.isEmpty() && temp(e) > temp(l.get(l.size() - 1));
            });
      case 5:
        return new Cond("count(" + other + ") < 2", (e, x) -> list(x, other).size() < 2);
      case 6:
        int limit = 5 + r.nextInt(20);
        return new Cond(
            "sum(" + other + ".temperature) + temperature < " + limit + ".0",
            (e, x) -> {
              double sum = temp(e);
              for (GenericRecord g : list(x, other)) {
                sum += temp(g);
              }
              return sum < limit;
            });
      default:
        return new Cond(
            "temperature >= first(" + other + ").temperature",
            (e, x) -> {
              List<GenericRecord> l = list(x, other);
              return !l.isEmpty() && temp(e) >= temp(l.get(0));
            });
    }
  }

  private static List<GenericRecord> list(IterativeCondition.Context<GenericRecord> ctx, String stage) throws Exception {
    List<GenericRecord> out = new ArrayList<>();
    for (GenericRecord g : ctx.getEventsForPattern(stage)) {
      out.add(g);
    }
    return out;
  }

  private static double temp(GenericRecord envelope) {
    return (Double) Envelopes.event(envelope).get("temperature");
  }

  private static String status(GenericRecord envelope) {
    return Envelopes.event(envelope).get("status").toString();
  }

  private static String pick(Random r, String... options) {
    return options[r.nextInt(options.length)];
  }

  /**
   * Events {time, temperature, status, id}: ties, steps of 0-2 ms, disorder up to 3 ms.
   * Non-deterministic patterns (followedByAny, allowCombinations) keep every combination of events
   * alive, exponentially, in Flink CEP as in any exact engine, and a pattern without a window keeps
   * them forever; such cases get short streams.
   */
  private static List<Object[]> events(Random r, String key, boolean bounded) {
    int count = bounded ? 8 + r.nextInt(17) : 4 + r.nextInt(7);
    List<Object[]> out = new ArrayList<>();
    long base = 1_000;
    for (int i = 0; i < count; i++) {
      base += r.nextInt(3);
      long time = base + r.nextInt(4);
      out.add(new Object[] {time, (double) r.nextInt(10), DeviceStatus.values()[r.nextInt(3)], key + "-e" + i});
    }
    return out;
  }

  private static final long DISORDER = 3;

  private static String describe(List<Object[]> events) {
    StringBuilder sb = new StringBuilder();
    for (Object[] e : events) {
      sb.append(e[3]).append('@').append(e[0]).append('(').append(e[1]).append(',').append(e[2]).append(") ");
    }
    return sb.toString();
  }

  private static List<GenericRecord> envelopes(List<Object[]> events) {
    List<GenericRecord> out = new ArrayList<>();
    for (Object[] e : events) {
      SensorReading reading =
          SensorReading.newBuilder()
              .setEventId((String) e[3])
              .setDeviceId("device")
              .setSite("site")
              .setEventTime(java.time.Instant.ofEpochMilli((Long) e[0]))
              .setTemperature((Double) e[1])
              .setHumidity(50)
              .setBattery(90)
              .setStatus((DeviceStatus) e[2])
              .setFirmware("1")
              .build();
      out.add(TestEvents.envelope(ENVELOPE, reading, "device", (Long) e[0]));
    }
    return out;
  }

  // ---- the two runs ----

  private interface Feed {
    void element(GenericRecord envelope, long time) throws Exception;

    void watermark(long time) throws Exception;
  }

  private static void feed(List<Object[]> events, Feed feed) throws Exception {
    long max = Long.MIN_VALUE;
    List<GenericRecord> envelopes = envelopes(events);
    for (int i = 0; i < envelopes.size(); i++) {
      long time = (Long) events.get(i)[0];
      feed.element(envelopes.get(i), time);
      max = Math.max(max, time);
      if (i % 3 == 2) {
        feed.watermark(max - DISORDER - 1);
      }
    }
    feed.watermark(Long.MAX_VALUE);
  }

  private static List<String> runEngine(String yaml, List<Object[]> events, boolean bounded) throws Exception {
    try (KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h =
        TestEvents.harness(ENVELOPE, "deviceId")) {
      h.processBroadcastElement(TestEvents.command(RuleAction.ADD, yaml), 0);
      feed(
          events,
          new Feed() {
            @Override
            public void element(GenericRecord envelope, long time) throws Exception {
              h.processElement(envelope, time);
            }

            @Override
            public void watermark(long time) throws Exception {
              h.processWatermark(time);
            }
          });
      assertThat(h.getSideOutput(RuleEngine.STATUS)).singleElement().satisfies(s -> assertThat(s.getValue().getAccepted()).isTrue());
      if (bounded) {
        // At the end of time every partial match of a rule with a first-to-last window has ended.
        // (Flink CEP's previous-and-current windows do not cover every NFA state, so there some
        // partial matches never expire, in Flink as here.)
        assertThat(TestEvents.numKeyedStateEntries(h)).as("keyed state entries at the end\n%s", yaml).isZero();
      }
      List<String> out = new ArrayList<>();
      for (Alert a : h.extractOutputValues()) {
        out.add(a.getKind() == AlertKind.MATCH ? "M|" + TestEvents.canonical(a) : "T|" + a.getTime() + "|" + TestEvents.canonical(a));
      }
      return out;
    }
  }

  private static List<String> runOracle(
      Case c, Pattern<GenericRecord, GenericRecord> pattern, NFACompiler.NFAFactory<GenericRecord> factory, List<Object[]> events)
      throws Exception {
    try (KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, String> h = oracleHarness(c, pattern, factory, false)) {
      feed(
          events,
          new Feed() {
            @Override
            public void element(GenericRecord envelope, long time) throws Exception {
              h.processElement(new StreamRecord<>(envelope, time));
            }

            @Override
            public void watermark(long time) throws Exception {
              h.processWatermark(time);
            }
          });
      List<String> out = new ArrayList<>(h.extractOutputValues());
      if (h.getSideOutput(TIMEOUTS) != null) {
        for (StreamRecord<String> s : h.getSideOutput(TIMEOUTS)) {
          out.add(s.getValue());
        }
      }
      return out;
    }
  }

  /** Flink's CepOperator in processing time, the clock set to each event's time as it arrives. */
  private static List<String> runProcessingTimeOracle(
      Case c, Pattern<GenericRecord, GenericRecord> pattern, NFACompiler.NFAFactory<GenericRecord> factory, List<Object[]> events)
      throws Exception {
    try (KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, String> h = oracleHarness(c, pattern, factory, true)) {
      List<GenericRecord> envelopes = envelopes(events);
      long last = 0;
      for (int i = 0; i < envelopes.size(); i++) {
        last = (Long) events.get(i)[0];
        h.setProcessingTime(last);
        h.processElement(new StreamRecord<>(envelopes.get(i), last));
      }
      // Past every window: what the engine's final watermark does.
      h.setProcessingTime(last + 1_000);
      return new ArrayList<>(h.extractOutputValues());
    }
  }

  /** An open harness of Flink's CepOperator for the case's hand-built pattern, in event or processing time. */
  private static KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, String> oracleHarness(
      Case c, Pattern<GenericRecord, GenericRecord> pattern, NFACompiler.NFAFactory<GenericRecord> factory, boolean processingTime)
      throws Exception {
    CepOperator<GenericRecord, String, String> operator =
        new CepOperator<>(
            new GenericRecordAvroTypeInfo(ENVELOPE).createSerializer(new SerializerConfigImpl()),
            processingTime,
            factory,
            null,
            pattern.getAfterMatchSkipStrategy(),
            new Canonical(c.leaves),
            null);
    KeyedOneInputStreamOperatorTestHarness<String, GenericRecord, String> h =
        new KeyedOneInputStreamOperatorTestHarness<>(operator, TestEvents.KEY, Types.STRING);
    h.open();
    return h;
  }

  /** Flink CEP's output in the same canonical form as {@link TestEvents#canonical}. */
  private static final class Canonical extends PatternProcessFunction<GenericRecord, String>
      implements TimedOutPartialMatchHandler<GenericRecord> {
    private final List<String> leaves;

    Canonical(List<String> leaves) {
      this.leaves = leaves;
    }

    @Override
    public void processMatch(Map<String, List<GenericRecord>> match, Context ctx, Collector<String> out) {
      out.collect("M|" + canonical(match));
    }

    @Override
    public void processTimedOutMatch(Map<String, List<GenericRecord>> match, Context ctx) {
      ctx.output(TIMEOUTS, "T|" + ctx.timestamp() + "|" + canonical(match));
    }

    private String canonical(Map<String, List<GenericRecord>> match) {
      StringBuilder sb = new StringBuilder();
      for (String stage : leaves) {
        List<GenericRecord> events = match.get(stage);
        if (events == null || events.isEmpty()) {
          continue;
        }
        List<String> ids = new ArrayList<>();
        for (GenericRecord e : events) {
          ids.add(Envelopes.event(e).get("eventId").toString());
        }
        if (sb.length() > 0) {
          sb.append(';');
        }
        sb.append(stage).append('=').append(ids);
      }
      return sb.toString();
    }
  }

  // ---- the same case as YAML, and as a hand-built Flink pattern ----

  private static String yaml(Case c, int n) {
    StringBuilder y = new StringBuilder();
    y.append("id: generated-").append(n).append("\nversion: 1\nseverity: low\neventTypes: [SensorReading]\nkey: deviceId\n");
    if (c.within != null) {
      y.append("within: ").append(c.within).append(" ms\n");
      y.append("withinType: ").append(c.previousAndCurrent ? "previous-and-current" : "first-and-last").append('\n');
      if (c.timeouts) {
        y.append("emit:\n  alerts: [match, timeout]\n");
      }
    }
    y.append("afterMatch: ").append(c.skipStage == null ? c.skip : c.skip + "(" + c.skipStage + ")").append('\n');
    y.append("pattern:\n");
    stagesYaml(y, c.stages, "  ");
    return y.toString();
  }

  private static void stagesYaml(StringBuilder y, List<Gen> stages, String indent) {
    for (Gen g : stages) {
      y.append(indent).append("-\n");
      String in = indent + "  ";
      if (g.name != null) {
        y.append(in).append("name: ").append(g.name).append('\n');
      }
      if (g.after != null) {
        y.append(in).append("after: ").append(g.after).append('\n');
      }
      if (g.cond != null) {
        y.append(in).append("where: \"").append(g.cond.cel()).append("\"\n");
      }
      switch (g.quant) {
        case "times" -> y.append(in).append("times: ").append(g.n).append('\n');
        case "range" -> y.append(in).append("times: [").append(g.n).append(", ").append(g.m).append("]\n");
        case "oneOrMore" -> y.append(in).append("oneOrMore: true\n");
        case "timesOrMore" -> y.append(in).append("timesOrMore: ").append(g.n).append('\n');
        default -> { }
      }
      if (g.optional) {
        y.append(in).append("optional: true\n");
      }
      if (g.greedy) {
        y.append(in).append("greedy: true\n");
      }
      if (g.consecutive) {
        y.append(in).append("consecutive: true\n");
      }
      if (g.combinations) {
        y.append(in).append("allowCombinations: true\n");
      }
      if (g.until != null) {
        y.append(in).append("until: \"").append(g.until.cel()).append("\"\n");
      }
      if (!g.members.isEmpty()) {
        y.append(in).append("group:\n");
        stagesYaml(y, g.members, in + "  ");
      }
    }
  }

  private static Pattern<GenericRecord, GenericRecord> oracle(Case c) {
    AfterMatchSkipStrategy skip =
        switch (c.skip) {
          case "no-skip" -> AfterMatchSkipStrategy.noSkip();
          case "skip-to-next" -> AfterMatchSkipStrategy.skipToNext();
          case "skip-past-last-event" -> AfterMatchSkipStrategy.skipPastLastEvent();
          case "skip-to-first" -> AfterMatchSkipStrategy.skipToFirst(c.skipStage);
          default -> AfterMatchSkipStrategy.skipToLast(c.skipStage);
        };
    Pattern<GenericRecord, GenericRecord> p = chain(c.stages, skip);
    if (c.within != null) {
      p = p.within(Duration.ofMillis(c.within), c.previousAndCurrent ? WithinType.PREVIOUS_AND_CURRENT : WithinType.FIRST_AND_LAST);
    }
    return p;
  }

  private static Pattern<GenericRecord, GenericRecord> chain(List<Gen> stages, AfterMatchSkipStrategy skip) {
    Pattern<GenericRecord, GenericRecord> p = null;
    for (Gen g : stages) {
      if (!g.members.isEmpty()) {
        Pattern<GenericRecord, GenericRecord> group = chain(g.members, AfterMatchSkipStrategy.noSkip());
        if (p == null) {
          p = Pattern.begin(group, skip);
        } else if (g.after.equals("next")) {
          p = p.next(group);
        } else if (g.after.equals("followedBy")) {
          p = p.followedBy(group);
        } else {
          p = p.followedByAny(group);
        }
      } else {
        if (p == null) {
          p = Pattern.begin(g.name, skip);
        } else {
          p = switch (g.after) {
            case "next" -> p.next(g.name);
            case "followedBy" -> p.followedBy(g.name);
            case "followedByAny" -> p.followedByAny(g.name);
            case "notNext" -> p.notNext(g.name);
            default -> p.notFollowedBy(g.name);
          };
        }
        Pred pred = g.cond.java();
        p = p.where(condition(pred));
      }
      switch (g.quant) {
        case "times" -> p = g.n == 1 ? p : p.times(g.n);
        case "range" -> p = p.times(g.n, g.m);
        case "oneOrMore" -> p = p.oneOrMore();
        case "timesOrMore" -> p = p.timesOrMore(g.n);
        default -> { }
      }
      if (g.optional) {
        p = p.optional();
      }
      if (g.greedy) {
        p = p.greedy();
      }
      if (g.consecutive) {
        p = p.consecutive();
      }
      if (g.combinations) {
        p = p.allowCombinations();
      }
      if (g.until != null) {
        p = p.until(condition(g.until.java()));
      }
    }
    return p;
  }

  private static IterativeCondition<GenericRecord> condition(Pred pred) {
    return new IterativeCondition<>() {
      @Override
      public boolean filter(GenericRecord value, Context<GenericRecord> ctx) throws Exception {
        return pred.test(value, ctx);
      }
    };
  }
}
