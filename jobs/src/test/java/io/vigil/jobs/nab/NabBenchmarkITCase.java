package io.vigil.jobs.nab;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.functions.anomaly.AnomalyDetector;
import io.vigil.functions.anomaly.Detectors;
import io.vigil.functions.anomaly.LikelihoodDetector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NAB run path: series through the production operator on a mini-cluster (parallelism 2)
 * must give exactly the scores of the detector run directly, row by row, and the result files
 * must hold them in NAB's layout.
 */
class NabBenchmarkITCase {

  @RegisterExtension
  static final MiniClusterExtension CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  private static final Set<String> FILES =
      Set.of(
          "artificialWithAnomaly/art_daily_jumpsup.csv",
          "realKnownCause/ambient_temperature_system_failure.csv",
          "realTraffic/speed_7578.csv");

  @Test
  void operatorScoresEqualTheDetectorRunDirectlyAndResultFilesHoldThem(@TempDir Path out)
      throws Exception {
    List<NabSeries> corpus =
        NabCorpus.load(NabData.root()).stream().filter(s -> FILES.contains(s.path())).toList();
    assertThat(corpus).hasSize(3);
    List<double[]> scores = NabBenchmark.score(corpus, LikelihoodDetector.NAME, 2);
    for (int f = 0; f < corpus.size(); f++) {
      NabSeries series = corpus.get(f);
      assertThat(scores.get(f)).as(series.path()).containsExactly(direct(series));
      Path file = NabResultFiles.path(out, LikelihoodDetector.NAME, series);
      NabResultFiles.write(file, series, scores.get(f));
      assertThat(file.toString())
          .endsWith(series.category() + "/likelihood_" + series.name() + ".csv");
      assertThat(NabResultFiles.readScores(file)).containsExactly(scores.get(f));
    }
    // The step up in art_daily_jumpsup lies in its window; the detector must fire inside it.
    NabSeries jumps = corpus.get(0);
    int[] window = jumps.windows().get(0);
    double bestInWindow = 0;
    for (int i = window[0]; i <= window[1]; i++) {
      bestInWindow = Math.max(bestInWindow, scores.get(0)[i]);
    }
    double bestBefore = 0;
    for (int i = NabScorer.probationaryLength(jumps.size()); i < window[0]; i++) {
      bestBefore = Math.max(bestBefore, scores.get(0)[i]);
    }
    assertThat(bestInWindow).isGreaterThan(bestBefore);
  }

  @SuppressWarnings("unchecked")
  private static double[] direct(NabSeries series) {
    AnomalyDetector<Object> detector =
        (AnomalyDetector<Object>) Detectors.create(LikelihoodDetector.NAME);
    Object state = detector.newState();
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < series.size(); i++) {
      out.add(detector.update(state, series.epochMillis(i), series.values()[i]).score());
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }
}
