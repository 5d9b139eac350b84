package io.vigil.bench.cep;

import io.vigil.bench.BenchSpec;
import io.vigil.bench.Dataset;
import io.vigil.bench.Measurement;
import io.vigil.bench.Oracle;
import io.vigil.bench.RunClock;
import io.vigil.bench.pipeline.EnvelopeConverter;
import io.vigil.bench.pipeline.Reading;
import io.vigil.bench.pipeline.ReadingConverter;
import io.vigil.functions.event.Envelopes;
import io.vigil.functions.ingest.DecodeSettings;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;

/**
 * The CEP table: {@code temperature-spike.yaml} alone on the same events in every engine of
 * {@link CepEngines}, single-threaded in this thread, input decoded beforehand into each engine's
 * own event type. Two ways of advancing event time: <em>steady</em> (a watermark of the largest
 * event time so far minus the spec's 5 s bound every 100 events, like a live stream) and
 * <em>catch-up</em> (one watermark at the end: a replay or backlog). Esper has no watermarks; it
 * matches in arrival order, which for each device is event-time order in this input, so it runs
 * once. So does the engine with the rule in arrival order ({@code order: arrival}), which gets the
 * steady watermarks too (they expire its partial matches). Each round runs every engine once, fresh; matches are checked against {@link Oracle}.
 */
public final class CepSuite {

  public static final String TITLE = "CEP engines, one rule (single thread)";

  public static final String ESPER = "esper (match_recognize)";
  public static final String ENGINE = "vigil engine, 1 rule";
  public static final String CEP_COMPILED = "flink cep, compiled rule";
  public static final String CEP_HAND = "flink cep, hand-written pattern";

  public static final String STEADY = "steady";
  public static final String CATCH_UP = "catch-up";
  public static final String ARRIVAL = "arrival order";

  private static final long BOUND = 5_000;

  private final Schema envelopeSchema;
  private final List<GenericRecord> envelopes = new ArrayList<>();
  private final List<Reading> readings = new ArrayList<>();
  private final List<EsperReading> esperReadings = new ArrayList<>();
  private final long[] times;
  private final long expected;
  private final PrintStream log;

  public CepSuite(Dataset dataset, DecodeSettings decode, PrintStream log) {
    this.log = log;
    this.envelopeSchema = Envelopes.schema(decode.eventType().current());
    EnvelopeConverter toEnvelope = new EnvelopeConverter(decode);
    ReadingConverter toReading = new ReadingConverter(decode);
    times = new long[dataset.size()];
    for (int i = 0; i < dataset.size(); i++) {
      GenericRecord envelope = toEnvelope.convert(dataset.value(i), i);
      Reading reading = toReading.convert(dataset.value(i), i);
      envelopes.add(envelope);
      readings.add(reading);
      esperReadings.add(new EsperReading(reading.eventId, reading.deviceId, reading.eventTime, reading.temperature));
      times[i] = reading.eventTime;
    }
    expected = Oracle.of(dataset.readings()).alerts();
  }

  public long expectedMatches() {
    return expected;
  }

  /** One measurement per engine and mode (parallelism 1), each of {@code rounds} runs. */
  public List<Measurement> run(int rounds, boolean warmUp) throws Exception {
    List<String> keys = List.of(ESPER + "|" + ARRIVAL, ENGINE + "|" + ARRIVAL,
        ENGINE + "|" + STEADY, CEP_COMPILED + "|" + STEADY, CEP_HAND + "|" + STEADY,
        ENGINE + "|" + CATCH_UP, CEP_COMPILED + "|" + CATCH_UP, CEP_HAND + "|" + CATCH_UP);
    log.printf("cep: %,d events, expecting %,d matches%n", times.length, expected);
    if (warmUp) {
      for (String key : keys) {
        runOnce(key);
      }
    }
    Map<String, List<Measurement.Run>> runs = new LinkedHashMap<>();
    Map<String, Boolean> ok = new LinkedHashMap<>();
    for (int round = 1; round <= rounds; round++) {
      for (String key : keys) {
        Outcome o = runOnce(key);
        runs.computeIfAbsent(key, k -> new ArrayList<>()).add(o.run());
        ok.merge(key, o.matches() == expected, Boolean::logicalAnd);
        log.printf("  round %d %-45s %,12.0f events/s %,12.0f per core, %d matches%n", round, key.replace('|', ' '),
            o.run().eventsPerSecond(), o.run().eventsPerCoreSecond(), o.matches());
      }
    }
    List<Measurement> out = new ArrayList<>();
    for (String key : keys) {
      out.add(new Measurement(key.replace("|", ", "), 1, runs.get(key), ok.get(key)));
    }
    return out;
  }

  private record Outcome(Measurement.Run run, long matches) {}

  private Outcome runOnce(String key) throws Exception {
    String engine = key.substring(0, key.indexOf('|'));
    boolean steady = !key.endsWith(CATCH_UP);
    return switch (engine) {
      case ESPER -> feed(CepEngines.esper(), esperReadings, true);
      case ENGINE -> key.endsWith(ARRIVAL)
          ? feed(CepEngines.vigilEngine(envelopeSchema, List.of(BenchSpec.ARRIVAL_RULE_YAML)), envelopes, true)
          : feed(CepEngines.vigilEngine(envelopeSchema, 1), envelopes, steady);
      case CEP_COMPILED -> feed(CepEngines.flinkCepCompiled(envelopeSchema), envelopes, steady);
      case CEP_HAND -> feed(CepEngines.flinkCepHandWritten(), readings, steady);
      default -> throw new IllegalArgumentException(engine);
    };
  }

  private <E> Outcome feed(CepEngines.Engine<E> engine, List<E> events, boolean steady) throws Exception {
    try (engine) {
      long wall = System.nanoTime();
      long cpu = RunClock.processCpuNanos();
      long max = Long.MIN_VALUE;
      for (int i = 0; i < events.size(); i++) {
        long t = times[i];
        max = Math.max(max, t);
        engine.event(events.get(i), t);
        if (steady && i % 100 == 99) {
          engine.watermark(max - BOUND - 1);
        }
      }
      engine.watermark(Long.MAX_VALUE);
      Measurement.Run run = new Measurement.Run(events.size(), System.nanoTime() - wall, RunClock.processCpuNanos() - cpu);
      return new Outcome(run, engine.matches());
    }
  }
}
