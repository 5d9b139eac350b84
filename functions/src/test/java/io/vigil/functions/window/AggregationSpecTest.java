package io.vigil.functions.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vigil.functions.window.AggregationSpec.WindowKind;
import io.vigil.schemas.SensorReading;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class AggregationSpecTest {

  private static final List<String> BY_DEVICE = List.of("deviceId");
  private static final List<MetricSpec> COUNT = List.of(MetricSpec.count());

  @Test
  void factoriesBuildTheWindowShape() {
    AggregationSpec sliding =
        AggregationSpec.sliding(
            "s",
            Duration.ofMinutes(10),
            Duration.ofMinutes(1),
            Duration.ofSeconds(30),
            BY_DEVICE,
            COUNT);
    assertThat(sliding.kind()).isEqualTo(WindowKind.SLIDING);
    assertThat(sliding.size()).isEqualTo(Duration.ofMinutes(10));
    assertThat(sliding.slide()).isEqualTo(Duration.ofMinutes(1));
    assertThat(sliding.gap()).isNull();
    assertThat(sliding.allowedLateness()).isEqualTo(Duration.ofSeconds(30));

    AggregationSpec session =
        AggregationSpec.session("x", Duration.ofMinutes(5), Duration.ZERO, BY_DEVICE, COUNT);
    assertThat(session.kind()).isEqualTo(WindowKind.SESSION);
    assertThat(session.gap()).isEqualTo(Duration.ofMinutes(5));
    assertThat(session.size()).isNull();
  }

  @Test
  void rejectsBadWindowShapesNamingTheProblem() {
    assertThatThrownBy(
            () -> AggregationSpec.tumbling("t", Duration.ZERO, Duration.ZERO, BY_DEVICE, COUNT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("window size must be positive");
    assertThatThrownBy(
            () ->
                AggregationSpec.sliding(
                    "s",
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(10),
                    Duration.ZERO,
                    BY_DEVICE,
                    COUNT))
        .hasMessageContaining("slide PT10S must not be longer than window size PT5S");
    assertThatThrownBy(
            () ->
                AggregationSpec.sliding(
                    "s",
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(-1),
                    Duration.ZERO,
                    BY_DEVICE,
                    COUNT))
        .hasMessageContaining("window slide must be positive");
    assertThatThrownBy(() -> AggregationSpec.session("g", null, Duration.ZERO, BY_DEVICE, COUNT))
        .hasMessageContaining("session gap must be given");
    assertThatThrownBy(
            () ->
                AggregationSpec.tumbling(
                    "t", Duration.ofSeconds(1), Duration.ofSeconds(-1), BY_DEVICE, COUNT))
        .hasMessageContaining("allowed lateness must be zero or more");
    assertThatThrownBy(
            () ->
                AggregationSpec.tumbling(
                    "t", Duration.ofNanos(1500), Duration.ZERO, BY_DEVICE, COUNT))
        .hasMessageContaining("whole number of milliseconds");
  }

  @Test
  void rejectsBadGroupByAndMetrics() {
    Duration size = Duration.ofSeconds(1);
    assertThatThrownBy(() -> AggregationSpec.tumbling("t", size, Duration.ZERO, List.of(), COUNT))
        .hasMessageContaining("at least one field");
    assertThatThrownBy(
            () -> AggregationSpec.tumbling("t", size, Duration.ZERO, List.of("a", "a"), COUNT))
        .hasMessageContaining("'a' is listed twice");
    assertThatThrownBy(
            () -> AggregationSpec.tumbling("t", size, Duration.ZERO, BY_DEVICE, List.of()))
        .hasMessageContaining("at least one metric");
    assertThatThrownBy(
            () ->
                AggregationSpec.tumbling(
                    "t",
                    size,
                    Duration.ZERO,
                    BY_DEVICE,
                    List.of(MetricSpec.parse("p95(x)"), MetricSpec.parse("quantile(x, 0.95)"))))
        .hasMessageContaining("output name 'p95_x'");
    assertThatThrownBy(() -> AggregationSpec.tumbling(" ", size, Duration.ZERO, BY_DEVICE, COUNT))
        .hasMessageContaining("name must not be blank");
  }

  @Test
  void checkAgainstListsEveryUnknownOrNonNumericField() {
    AggregationSpec spec =
        AggregationSpec.tumbling(
            "t",
            Duration.ofSeconds(1),
            Duration.ZERO,
            List.of("deviceId", "region"),
            List.of(
                MetricSpec.parse("avg(temperature)"),
                MetricSpec.parse("avg(site)"),
                MetricSpec.parse("distinct(site)"),
                MetricSpec.parse("max(pressure)")));
    assertThatThrownBy(() -> spec.checkAgainst(SensorReading.getClassSchema()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("group-by field 'region'")
        .hasMessageContaining("avg_site: field 'site' is of type string, not a number")
        .hasMessageContaining("max_pressure: field 'pressure' is not in")
        .message()
        .doesNotContain("temperature")
        .doesNotContain("distinct_site");
  }

  @Test
  void acceptsAMatchingSchemaAndSurvivesJavaSerialization() throws Exception {
    AggregationSpec spec =
        AggregationSpec.sliding(
            "s",
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            Duration.ofSeconds(1),
            List.of("site", "deviceId"),
            List.of(MetricSpec.count(), MetricSpec.parse("p99(temperature)")));
    spec.checkAgainst(SensorReading.getClassSchema());

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(spec);
    }
    Object copy = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())).readObject();
    assertThat(copy).isEqualTo(spec);
  }
}
