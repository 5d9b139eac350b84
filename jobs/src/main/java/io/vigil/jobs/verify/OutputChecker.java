package io.vigil.jobs.verify;

import io.vigil.jobs.kafka.CommittedRecords;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.WindowAggregate;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Checks a reliability run's committed output against its input. It reads the input topic (what
 * {@link SequenceProducer} wrote), checks every key's sequence is 1..n with no gap or repeat, and
 * recomputes every tumbling window's count and sum of temperature on its own (no Vigil window
 * code). It then reads the aggregates and dead letters with read_committed and reports each
 * expected window missing, duplicated, or with wrong values, plus windows the input cannot have
 * and dead letters (the input is all valid and on time, so there must be none). Windows holding a
 * closing record are not checked: they never close.
 *
 * <p>Prints one line of {@code key=value} pairs and exits 1 on any problem. With {@code
 * --wait-seconds} it first polls until every expected window is present (or the time is up).
 */
@Command(name = "check", description = "Check committed aggregates against the sequence-numbered input.")
final class OutputChecker implements Callable<Integer> {

  @Option(names = "--bootstrap-servers", required = true)
  String bootstrapServers;

  @Option(names = "--input", required = true)
  String input;

  @Option(names = "--aggregates", required = true)
  String aggregates;

  @Option(names = "--dead-letters", required = true)
  String deadLetters;

  @Option(names = "--window-ms", defaultValue = "10000")
  long windowMs;

  @Option(names = "--wait-seconds", defaultValue = "0")
  long waitSeconds;

  private record Expected(long count, double sum) {}

  @Override
  public Integer call() throws Exception {
    Map<String, Expected> expected = new TreeMap<>();
    Map<String, Long> lastSeq = new HashMap<>();
    Map<String, Long> closeTime = new HashMap<>();
    long inputRecords = 0;
    long sequenceErrors = 0;
    for (ConsumerRecord<byte[], byte[]> r : CommittedRecords.read(bootstrapServers, input)) {
      SensorReading e = SensorReading.getDecoder().decode(ByteBuffer.wrap(r.value()));
      String[] id = e.getEventId().split("#");
      long time = e.getEventTime().toEpochMilli();
      if (id[1].equals(SequenceProducer.CLOSE)) {
        closeTime.put(e.getDeviceId(), time);
        continue;
      }
      inputRecords++;
      long seq = Long.parseLong(id[1]);
      // One key is one Kafka partition, read in order: its sequence must count up by one.
      if (seq != lastSeq.getOrDefault(e.getDeviceId(), 0L) + 1) {
        sequenceErrors++;
      }
      lastSeq.put(e.getDeviceId(), seq);
      long start = time - Math.floorMod(time, windowMs);
      expected.merge(id(e.getDeviceId(), start), new Expected(1, e.getTemperature()),
          (a, b) -> new Expected(a.count() + b.count(), a.sum() + b.sum()));
    }

    long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
    Result result = compare(expected, closeTime);
    while (!result.missing.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(2_000);
      result = compare(expected, closeTime);
    }
    long deadLetterCount = CommittedRecords.read(bootstrapServers, deadLetters).size();
    boolean ok = sequenceErrors == 0 && result.missing.isEmpty() && result.duplicated.isEmpty()
        && result.wrong.isEmpty() && result.unexpected.isEmpty() && deadLetterCount == 0 && inputRecords > 0;
    System.out.printf(
        "input=%d keys=%d sequence_errors=%d windows_expected=%d records_checked=%d duplicates=%d missing=%d wrong=%d unexpected=%d dead_letters=%d result=%s%n",
        inputRecords, lastSeq.size(), sequenceErrors, expected.size(), result.checked, result.duplicated.size(),
        result.missing.size(), result.wrong.size(), result.unexpected.size(), deadLetterCount, ok ? "PASS" : "FAIL");
    result.missing.stream().limit(5).forEach(w -> System.out.println("  missing " + w));
    result.duplicated.stream().limit(5).forEach(w -> System.out.println("  duplicated " + w));
    result.wrong.stream().limit(5).forEach(w -> System.out.println("  wrong " + w));
    result.unexpected.stream().limit(5).forEach(w -> System.out.println("  unexpected " + w));
    return ok ? 0 : 1;
  }

  private record Result(long checked, TreeSet<String> missing, TreeSet<String> duplicated, List<String> wrong, TreeSet<String> unexpected) {}

  private Result compare(Map<String, Expected> expected, Map<String, Long> closeTime) throws IOException {
    Map<String, Integer> copies = new HashMap<>();
    List<String> wrong = new ArrayList<>();
    TreeSet<String> unexpected = new TreeSet<>();
    long checked = 0;
    for (ConsumerRecord<byte[], byte[]> r : CommittedRecords.read(bootstrapServers, aggregates)) {
      WindowAggregate a = WindowAggregate.getDecoder().decode(ByteBuffer.wrap(r.value()));
      String device = a.getGroupKey().get("deviceId");
      Long close = closeTime.get(device);
      if (close != null && a.getWindowStart() <= close && close < a.getWindowEnd()) {
        continue;
      }
      checked++;
      String id = id(device, a.getWindowStart());
      copies.merge(id, 1, Integer::sum);
      Expected e = expected.get(id);
      if (e == null || a.getWindowEnd() - a.getWindowStart() != windowMs) {
        unexpected.add(id);
      } else if (a.getRevision() != 0 || a.getCount() != e.count() || Math.abs(a.getValues().get("sum_temperature") - e.sum()) > 1e-6) {
        wrong.add(id + ": count " + a.getCount() + " (expected " + e.count() + "), sum " + a.getValues().get("sum_temperature") + " (expected " + e.sum() + ")");
      }
    }
    TreeSet<String> missing = new TreeSet<>(expected.keySet());
    missing.removeAll(copies.keySet());
    TreeSet<String> duplicated = new TreeSet<>();
    copies.forEach((id, n) -> {
      if (n > 1) {
        duplicated.add(id);
      }
    });
    return new Result(checked, missing, duplicated, wrong, unexpected);
  }

  private static String id(String device, long start) {
    return device + "|" + start;
  }
}
