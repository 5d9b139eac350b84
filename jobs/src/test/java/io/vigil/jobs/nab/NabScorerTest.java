package io.vigil.jobs.nab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scorer against NAB's published results: scoring windowedGaussian's published per-row
 * anomaly scores at its published threshold must reproduce NAB's per-file raw scores and counts.
 */
class NabScorerTest {

  private static final String DETECTOR = "windowedGaussian";

  @ParameterizedTest
  @ValueSource(strings = {"standard", "reward_low_FP_rate", "reward_low_FN_rate"})
  void reproducesPublishedWindowedGaussianScoresFileByFile(String profileName) throws IOException {
    Path nab = NabData.root();
    NabProfile profile = NabCorpus.profile(nab, profileName);
    double threshold =
        new ObjectMapper()
            .readTree(nab.resolve("config/thresholds.json").toFile())
            .get(DETECTOR)
            .get(profileName)
            .get("threshold")
            .asDouble();
    Map<String, String[]> published = publishedScores(nab, profileName);
    List<NabSeries> corpus = NabCorpus.load(nab);
    assertThat(corpus).hasSize(42);
    for (NabSeries series : corpus) {
      double[] scores =
          NabResultFiles.readScores(
              NabResultFiles.path(nab.resolve("results"), DETECTOR, series));
      NabScorer.FileScore actual = NabScorer.score(series, scores, profile, threshold);
      String[] row = published.get(series.path());
      assertThat(row).as(series.path()).isNotNull();
      assertThat(actual.score())
          .as(series.path() + " raw score")
          .isCloseTo(Double.parseDouble(row[4]), within(0.00005));
      assertThat(new int[] {actual.tp(), actual.tn(), actual.fp(), actual.fn(), actual.rows()})
          .as(series.path() + " TP, TN, FP, FN, rows")
          .containsExactly(
              Integer.parseInt(row[5]),
              Integer.parseInt(row[6]),
              Integer.parseInt(row[7]),
              Integer.parseInt(row[8]),
              Integer.parseInt(row[9]));
    }
  }

  @Test
  void sweepPicksTheThresholdWithTheBestTotalAndPrefersTheHigherOnTies() {
    // One file of 20 rows: probation is 3 rows; one window at rows 10..13.
    NabSeries series = syntheticSeries(20, List.of(new int[] {10, 13}));
    NabProfile standard = new NabProfile("standard", 1.0, 0.11, 1.0);
    double[] scores = new double[20];
    scores[11] = 0.8; // inside the window, second row
    scores[5] = 0.9; // a false positive before any window
    // At 0.9: one FP before the window (-0.11) and a missed window (-1).
    // At 0.8: the FP and the detection at row 11, worth sigma(-(13-11+1)/4)/sigma(-1).
    double tpAt11 = NabScorer.scaledSigmoid(-3.0 / 4.0) / NabScorer.scaledSigmoid(-1.0);
    NabScorer.Sweep sweep = NabScorer.optimize(List.of(series), List.of(scores), standard);
    assertThat(sweep.threshold()).isEqualTo(0.8);
    assertThat(sweep.rawScore()).isCloseTo(tpAt11 - 0.11, within(1e-12));
    assertThat(NabScorer.score(series, scores, standard, 0.8).score())
        .isCloseTo(sweep.rawScore(), within(1e-12));

    // A later detection in the same window adds nothing: 0.7 ties with 0.8, and 0.8 is kept.
    scores[12] = 0.7;
    NabScorer.Sweep tie = NabScorer.optimize(List.of(series), List.of(scores), standard);
    assertThat(tie.threshold()).isEqualTo(0.8);
    assertThat(tie.rawScore()).isCloseTo(sweep.rawScore(), within(1e-12));

    // Nothing detected scores the null score, which normalises to 0; a perfect score to 100.
    NabScorer.Sweep none =
        NabScorer.optimize(List.of(series), List.of(new double[20]), standard);
    assertThat(NabScorer.score(series, new double[20], standard, 0.5).score()).isEqualTo(-1.0);
    assertThat(none.threshold()).isEqualTo(0.0);
    assertThat(NabScorer.normalized(-1.0, 1, standard)).isEqualTo(0.0);
    assertThat(NabScorer.normalized(1.0, 1, standard)).isEqualTo(100.0);
  }

  @Test
  void probationaryPeriodIsFifteenPercentCappedAt750Rows() {
    assertThat(NabScorer.probationaryLength(4032)).isEqualTo(604);
    assertThat(NabScorer.probationaryLength(1000)).isEqualTo(150);
    assertThat(NabScorer.probationaryLength(22695)).isEqualTo(750);
  }

  static NabSeries syntheticSeries(int rows, List<int[]> windows) {
    List<java.time.LocalDateTime> timestamps = new ArrayList<>();
    java.time.LocalDateTime start = java.time.LocalDateTime.of(2020, 1, 1, 0, 0);
    for (int i = 0; i < rows; i++) {
      timestamps.add(start.plusMinutes(5L * i));
    }
    return new NabSeries("synthetic/s.csv", timestamps, new double[rows], windows);
  }

  private static Map<String, String[]> publishedScores(Path nab, String profile)
      throws IOException {
    Map<String, String[]> rows = new HashMap<>();
    Path file = nab.resolve("results/" + DETECTOR + "/" + DETECTOR + "_" + profile + "_scores.csv");
    for (String line : Files.readAllLines(file)) {
      String[] cells = line.split(",");
      if (cells.length >= 10 && !cells[0].equals("Detector") && cells[2].contains("/")) {
        rows.put(cells[2], cells);
      }
    }
    return rows;
  }
}
