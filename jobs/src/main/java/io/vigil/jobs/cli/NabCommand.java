package io.vigil.jobs.cli;

import io.vigil.functions.anomaly.Detectors;
import io.vigil.jobs.nab.NabBenchmark;
import io.vigil.jobs.nab.NabCorpus;
import io.vigil.jobs.nab.NabProfile;
import io.vigil.jobs.nab.NabReport;
import io.vigil.jobs.nab.NabResultFiles;
import io.vigil.jobs.nab.NabScorer;
import io.vigil.jobs.nab.NabSeries;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vigil nab --data <nab> --out <dir> [--detector name]}: runs a detector over every series
 * of a NAB corpus through the production anomaly operator, writes per-row results in NAB's layout
 * and an HTML report, sweeps one corpus-wide threshold per profile, and prints the normalised
 * scores.
 */
@Command(
    name = "nab",
    description = "Score a detector on the Numenta Anomaly Benchmark (NAB) corpus.")
final class NabCommand implements Callable<Integer> {

  @Option(names = "--data", required = true, description = "The NAB folder (data/, labels/, config/).")
  Path data;

  @Option(names = "--out", required = true, description = "Where results and report.html go.")
  Path out;

  @Option(
      names = "--detector",
      defaultValue = Detectors.DEFAULT,
      description = "Detector: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).",
      completionCandidates = DetectorNames.class)
  String detector;

  @Option(names = "--parallelism", defaultValue = "2", description = "Scorer parallelism.")
  int parallelism;

  /** The detector names, for picocli's help text. */
  static final class DetectorNames extends ArrayList<String> {
    DetectorNames() {
      super(Detectors.NAMES);
    }
  }

  @Override
  public Integer call() throws Exception {
    if (!Detectors.NAMES.contains(detector)) {
      System.err.println("unknown detector '" + detector + "'; known: " + Detectors.NAMES);
      return 2;
    }
    long start = System.nanoTime();
    List<NabSeries> corpus = NabCorpus.load(data);
    List<double[]> scores = NabBenchmark.score(corpus, detector, parallelism);
    long scored = System.nanoTime();
    for (int f = 0; f < corpus.size(); f++) {
      NabResultFiles.write(
          NabResultFiles.path(out, detector, corpus.get(f)), corpus.get(f), scores.get(f));
    }
    List<NabReport.ProfileResult> results = new ArrayList<>();
    int rows = corpus.stream().mapToInt(NabSeries::size).sum();
    System.out.printf(
        "NAB: detector %s, %d series, %d rows, %d windows%n",
        detector, corpus.size(), rows, NabScorer.countedWindows(corpus));
    for (NabProfile profile : NabCorpus.profiles(data)) {
      NabScorer.Sweep sweep = NabScorer.optimize(corpus, scores, profile);
      results.add(new NabReport.ProfileResult(profile, sweep));
      System.out.printf(
          "  %-20s %7.2f  (raw %.3f, threshold %.6f)%n",
          profile.name(),
          NabScorer.normalized(sweep.rawScore(), sweep.windows(), profile),
          sweep.rawScore(),
          sweep.threshold());
    }
    NabReport.ProfileResult standard =
        results.stream()
            .filter(r -> r.profile().name().equals("standard"))
            .findFirst()
            .orElse(results.get(0));
    Path report = out.resolve(detector).resolve("report.html");
    NabReport.write(
        report,
        detector,
        corpus,
        scores,
        results,
        standard.sweep().threshold(),
        standard.profile());
    System.out.printf(
        "Scored in %.1f s (total %.1f s). Results: %s  Report: %s%n",
        (scored - start) / 1e9,
        (System.nanoTime() - start) / 1e9,
        out.resolve(detector),
        report);
    return 0;
  }
}
