package io.vigil.functions.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vigil.functions.window.MetricSpec.AggregateKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MetricSpecTest {

  @ParameterizedTest
  @CsvSource(
      delimiter = ';',
      value = {
        "count; COUNT; ; count",
        "COUNT(); COUNT; ; count",
        "sum(temperature); SUM; temperature; sum_temperature",
        "min(x); MIN; x; min_x",
        "max(x); MAX; x; max_x",
        " avg( humidity ) ; AVG; humidity; avg_humidity",
        "stddev(x); STDDEV; x; stddev_x",
        "distinct(deviceId); DISTINCT; deviceId; distinct_deviceId",
        "p95(temperature); QUANTILE; temperature; p95_temperature",
      })
  void parsesShorthandWithDefaultOutputNames(
      String text, AggregateKind kind, String field, String outputName) {
    MetricSpec metric = MetricSpec.parse(text);
    assertThat(metric.kind()).isEqualTo(kind);
    assertThat(metric.field()).isEqualTo(field);
    assertThat(metric.outputName()).isEqualTo(outputName);
  }

  @ParameterizedTest
  @CsvSource({
    "p50(x), 0.5, p50_x",
    "p99(x), 0.99, p99_x",
    "p99_9(x), 0.999, p99_9_x",
    "p99.9(x), 0.999, p99_9_x",
    "p0(x), 0.0, p0_x",
    "p100(x), 1.0, p100_x",
    "'quantile(x, 0.95)', 0.95, p95_x",
    "'quantile(x,0.999)', 0.999, p99_9_x",
    "'quantile(x, 0.5)', 0.5, p50_x",
  })
  void parsesQuantilesAndNamesThemByPercent(String text, double q, String outputName) {
    MetricSpec metric = MetricSpec.parse(text);
    assertThat(metric.kind()).isEqualTo(AggregateKind.QUANTILE);
    assertThat(metric.quantile()).isEqualTo(q);
    assertThat(metric.outputName()).isEqualTo(outputName);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "sum",
        "sum()",
        "sum(a b)",
        "median(x)",
        "p101(x)",
        "quantile(x)",
        "quantile(x, 1.5)",
        "avg(x",
        "count(x)",
        "sum(1x)"
      })
  void rejectsMalformedShorthand(String text) {
    assertThatThrownBy(() -> MetricSpec.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metric");
  }

  @Test
  void rejectsQuantileOutsideZeroToOne() {
    assertThatThrownBy(() -> MetricSpec.quantile("x", -0.1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("between 0 and 1");
    assertThatThrownBy(() -> MetricSpec.of(AggregateKind.QUANTILE, "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("MetricSpec.quantile");
    assertThatThrownBy(() -> MetricSpec.of(AggregateKind.SUM, " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("field");
  }

  @Test
  void canBeRenamedAndSurvivesJavaSerialization() throws Exception {
    MetricSpec metric = MetricSpec.parse("p95(temperature)").named("hot");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(metric);
    }
    Object copy = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())).readObject();
    assertThat(copy).isEqualTo(metric);
    assertThat(((MetricSpec) copy).outputName()).isEqualTo("hot");
    assertThat(((MetricSpec) copy).quantile()).isEqualTo(0.95);
  }

  @Test
  void documentedErrorBoundsMatchTheSketchParameters() {
    assertThat(MetricSpec.DISTINCT_RELATIVE_ERROR).isBetween(0.015, 0.017);
    assertThat(MetricSpec.QUANTILE_RANK_ERROR).isBetween(0.013, 0.0135);
    assertThat(MetricSpec.KLL_PMF_RANK_ERROR).isBetween(0.016, 0.017);
  }
}
