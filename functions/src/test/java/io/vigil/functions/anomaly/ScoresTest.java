package io.vigil.functions.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ScoresTest {

  /** The explanation as it was first written, with {@code String.format}: the oracle. */
  private static String formatted(double z, String baseline) {
    return String.format(Locale.ROOT, "%.1f sigma %s the %s", Math.abs(z), z >= 0 ? "above" : "below", baseline);
  }

  @Test
  void sigmaTextReadsLikeStringFormatWithOneDecimal() {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 50_000; i++) {
      double z = (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-3, 7));
      assertThat(Scores.sigmaText(z, "moving average")).as("z = %s", z).isEqualTo(formatted(z, "moving average"));
    }
    for (double z : new double[] {0.0, -0.0, 0.05, 0.15, 0.25, 0.95, -0.95, 2.45, 9.95, 4.8, -4.8, 1e14, 1e15, 1e300,
        Double.MAX_VALUE, Double.MIN_VALUE}) {
      assertThat(Scores.sigmaText(z, "median")).as("z = %s", z).isEqualTo(formatted(z, "median"));
    }
  }
}
