package io.vigil.cep.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.vigil.cep.RuleLibrary;
import io.vigil.schemas.Alert;
import io.vigil.schemas.AnomalyScore;
import io.vigil.schemas.DerivedEvent;
import io.vigil.schemas.DeviceStatus;
import io.vigil.schemas.LoginAttempt;
import io.vigil.schemas.OrderEvent;
import io.vigil.schemas.OrderStatus;
import io.vigil.schemas.Payment;
import io.vigil.schemas.PaymentKind;
import io.vigil.schemas.RuleCommand;
import io.vigil.schemas.SensorReading;
import io.vigil.schemas.SourceRef;
import io.vigil.schemas.UserAction;
import io.vigil.schemas.UserActivity;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Each shipped rule fires on a stream that should fire it and stays quiet on a near miss. */
class ShippedRulesTest {

  private static final long MIN = 60_000;

  /** Runs one shipped rule over timestamped events, then a final watermark; returns its alerts. */
  private static final class Run implements AutoCloseable {
    final KeyedBroadcastOperatorTestHarness<String, GenericRecord, RuleCommand, Alert> h;
    final Schema envelope;

    Run(String rule, String key, Schema... types) throws Exception {
      envelope = RuleEnvelopes.schema(List.of(types));
      h = TestEvents.harness(envelope, key);
      h.processBroadcastElement(RuleLibrary.shippedCommands(rule.substring(0, rule.indexOf('/'))).stream()
          .filter(c -> c.getSource().toString().endsWith(rule)).findFirst().orElseThrow(), 0);
      assertThat(h.getSideOutput(RuleEngine.STATUS)).singleElement().satisfies(s -> assertThat(s.getValue().getAccepted()).as("%s", s.getValue().getError()).isTrue());
    }

    Run send(String key, long time, SpecificRecord event) throws Exception {
      h.processElement(TestEvents.envelope(envelope, event, key, time), time);
      h.processWatermark(time - 1);
      return this;
    }

    /** A score, wrapped as a job wraps its detectors' scores. */
    Run score(long time, AnomalyScore score) throws Exception {
      h.processElement(RuleEnvelopes.score(envelope, score), time);
      h.processWatermark(time - 1);
      return this;
    }

    List<String> alertsAt(long watermark) throws Exception {
      h.processWatermark(watermark);
      return h.extractOutputValues().stream().map(a -> a.getKind() + " " + TestEvents.canonical(a)).toList();
    }

    List<DerivedEvent> derived() {
      var out = h.getSideOutput(RuleEngine.DERIVED);
      return out == null ? List.of() : out.stream().map(StreamRecord::getValue).toList();
    }

    @Override
    public void close() throws Exception {
      h.close();
    }
  }

  private static SensorReading reading(String id, long time, double temperature, double battery) {
    return SensorReading.newBuilder().setEventId(id).setDeviceId("d1").setSite("s").setEventTime(Instant.ofEpochMilli(time))
        .setTemperature(temperature).setHumidity(40).setBattery(battery).setStatus(DeviceStatus.OK).setFirmware("1").build();
  }

  private static AnomalyScore score(long offset, long time, String field, double score, boolean warmUp) {
    return AnomalyScore.newBuilder().setKey("d1").setEventType("SensorReading").setField(field).setEventTime(time)
        .setValue(40).setScore(score).setAnomalous(score >= 0.9 && !warmUp).setDetector("device-temperature")
        .setExplanation("test").setWarmUp(warmUp).setSource(new SourceRef("events", 0, offset, null)).build();
  }

  private static List<String> anomalyThenOverheat(AnomalyScore score, long hotAt) throws Exception {
    try (Run run = new Run("iot/anomaly-then-overheat.yaml", "deviceId", SensorReading.getClassSchema(), AnomalyScore.getClassSchema())) {
      long t = score.getEventTime();
      // The scored reading itself (hot, same time, after its score) must not complete the match.
      run.score(t, score).send("d1", t, reading("scored", t, 85, 90));
      run.send("d1", t + MIN, reading("mild", t + MIN, 30, 90));
      run.send("d1", hotAt, reading("hot", hotAt, 85, 90));
      return run.alertsAt(Long.MAX_VALUE);
    }
  }

  @Test
  void anomalyThenOverheatFiresOnAHotReadingWithinFiveMinutesOfAnAnomalousScore() throws Exception {
    assertThat(anomalyThenOverheat(score(7, MIN, "temperature", 0.95, false), 5 * MIN))
        .containsExactly("MATCH anomaly=[events/0/7];overheat=[hot]");
  }

  @Test
  void anomalyThenOverheatStaysQuietWhenTheHotReadingIsMoreThanFiveMinutesLater() throws Exception {
    assertThat(anomalyThenOverheat(score(7, MIN, "temperature", 0.95, false), 6 * MIN + 1)).isEmpty();
  }

  @Test
  void anomalyThenOverheatIgnoresLowWarmUpAndOtherFieldScores() throws Exception {
    assertThat(anomalyThenOverheat(score(7, MIN, "temperature", 0.85, false), 3 * MIN)).isEmpty();
    assertThat(anomalyThenOverheat(score(7, MIN, "temperature", 0.95, true), 3 * MIN)).isEmpty();
    assertThat(anomalyThenOverheat(score(7, MIN, "battery", 0.95, false), 3 * MIN)).isEmpty();
  }

  private static Payment payment(String id, long time, PaymentKind kind, double amount, String country) {
    return Payment.newBuilder().setEventId(id).setCardId("card").setAccountId("acct").setEventTime(Instant.ofEpochMilli(time))
        .setKind(kind).setAmount(amount).setCurrency("EUR").setCountry(country).setMerchant("m").setCorrelationId("corr-" + id).build();
  }

  private static LoginAttempt login(String id, long time, boolean success) {
    return LoginAttempt.newBuilder().setEventId(id).setAccountId("acct").setEventTime(Instant.ofEpochMilli(time))
        .setSuccess(success).setCountry("DE").setIp("10.0.0.1").build();
  }

  private static OrderEvent order(String id, long time, OrderStatus status) {
    return OrderEvent.newBuilder().setEventId(id).setOrderId("o1").setCustomerId("c1").setEventTime(Instant.ofEpochMilli(time))
        .setStatus(status).setAmount(42.5).build();
  }

  private static UserActivity activity(String id, long time, UserAction action) {
    return UserActivity.newBuilder().setEventId(id).setUserId("u1").setSessionId("s1").setEventTime(Instant.ofEpochMilli(time))
        .setAction(action).setValue(10).build();
  }

  private static List<String> temperatures(double... values) throws Exception {
    try (Run run = new Run("iot/temperature-rising.yaml", "deviceId", SensorReading.getClassSchema())) {
      for (int i = 0; i < values.length; i++) {
        run.send("d1", (i + 1) * MIN / 2, reading("r" + i, (i + 1) * MIN / 2, values[i], 90));
      }
      return run.alertsAt(Long.MAX_VALUE);
    }
  }

  @Test
  void temperatureRisingFiresOnThreeRisesThenOverLimit() throws Exception {
    assertThat(temperatures(50, 55, 60, 65, 85)).containsExactly("MATCH base=[r0];rising=[r1, r2, r3];over=[r4]");
  }

  @Test
  void temperatureRisingStaysQuietWhenARiseIsBroken() throws Exception {
    assertThat(temperatures(50, 55, 54, 65, 85)).isEmpty();
  }

  @Test
  void deviceSilentFiresTenMinutesAfterTheLastReading() throws Exception {
    try (Run run = new Run("iot/device-silent.yaml", "deviceId", SensorReading.getClassSchema())) {
      run.send("d1", 0, reading("r0", 0, 20, 90)).send("d1", MIN, reading("r1", MIN, 20, 90));
      assertThat(run.alertsAt(10 * MIN)).isEmpty();
      assertThat(run.alertsAt(11 * MIN)).containsExactly("MATCH lastSeen=[r1]");
    }
  }

  @Test
  void deviceSilentStaysQuietWhileReadingsKeepComing() throws Exception {
    try (Run run = new Run("iot/device-silent.yaml", "deviceId", SensorReading.getClassSchema())) {
      for (int i = 0; i <= 8; i++) {
        run.send("d1", i * 5 * MIN, reading("r" + i, i * 5 * MIN, 20, 90));
      }
      assertThat(run.alertsAt(49 * MIN)).isEmpty();
    }
  }

  @Test
  void batteryDropFiresOnTwentyPointsWithinTenMinutes() throws Exception {
    try (Run run = new Run("iot/battery-drop.yaml", "deviceId", SensorReading.getClassSchema())) {
      run.send("d1", 0, reading("r0", 0, 20, 90)).send("d1", 5 * MIN, reading("r1", 5 * MIN, 20, 65));
      assertThat(run.alertsAt(Long.MAX_VALUE)).containsExactly("MATCH before=[r0];after=[r1]");
    }
  }

  @Test
  void batteryDropStaysQuietOnASlowDrain() throws Exception {
    try (Run run = new Run("iot/battery-drop.yaml", "deviceId", SensorReading.getClassSchema())) {
      run.send("d1", 0, reading("r0", 0, 20, 90))
          .send("d1", 5 * MIN, reading("r1", 5 * MIN, 20, 75))
          .send("d1", 12 * MIN, reading("r2", 12 * MIN, 20, 65));
      assertThat(run.alertsAt(Long.MAX_VALUE)).isEmpty();
    }
  }

  private static List<String> payments(Payment... events) throws Exception {
    try (Run run = new Run("payments/small-then-large.yaml", "cardId", Payment.getClassSchema())) {
      for (Payment p : events) {
        run.send("card", p.getEventTime().toEpochMilli(), p);
      }
      return run.alertsAt(Long.MAX_VALUE);
    }
  }

  @Test
  void smallThenLargeFiresOnThreeSmallPaymentsThenALargeOne() throws Exception {
    assertThat(
            payments(
                payment("p0", MIN, PaymentKind.PURCHASE, 1, "DE"),
                payment("p1", 2 * MIN, PaymentKind.PURCHASE, 2, "DE"),
                payment("p2", 3 * MIN, PaymentKind.PURCHASE, 1.5, "DE"),
                payment("p3", 5 * MIN, PaymentKind.PURCHASE, 900, "DE")))
        .containsExactly("MATCH small=[p0, p1, p2];large=[p3]");
  }

  @Test
  void smallThenLargeStaysQuietAfterOnlyTwoSmallPayments() throws Exception {
    assertThat(
            payments(
                payment("p0", MIN, PaymentKind.PURCHASE, 1, "DE"),
                payment("p1", 2 * MIN, PaymentKind.PURCHASE, 2, "DE"),
                payment("p3", 5 * MIN, PaymentKind.PURCHASE, 900, "DE")))
        .isEmpty();
  }

  @Test
  void twoCountriesFiresWithinAnHourAndCarriesCorrelationIds() throws Exception {
    try (Run run = new Run("payments/two-countries.yaml", "cardId", Payment.getClassSchema())) {
      run.send("card", MIN, payment("p0", MIN, PaymentKind.PURCHASE, 30, "DE"))
          .send("card", 40 * MIN, payment("p1", 40 * MIN, PaymentKind.PURCHASE, 30, "FR"));
      assertThat(run.alertsAt(Long.MAX_VALUE)).containsExactly("MATCH here=[p0];there=[p1]");
      assertThat(run.h.extractOutputValues().get(0).getCorrelationIds()).containsExactly("corr-p0", "corr-p1");
    }
  }

  @Test
  void twoCountriesStaysQuietWhenTheSecondCountryIsHoursLater() throws Exception {
    try (Run run = new Run("payments/two-countries.yaml", "cardId", Payment.getClassSchema())) {
      run.send("card", MIN, payment("p0", MIN, PaymentKind.PURCHASE, 30, "DE"))
          .send("card", 121 * MIN, payment("p1", 121 * MIN, PaymentKind.PURCHASE, 30, "FR"));
      assertThat(run.alertsAt(Long.MAX_VALUE)).isEmpty();
    }
  }

  private static List<String> takeover(int failures) throws Exception {
    try (Run run = new Run("payments/account-takeover.yaml", "accountId", LoginAttempt.getClassSchema(), Payment.getClassSchema())) {
      long t = MIN;
      for (int i = 0; i < failures; i++) {
        run.send("acct", t, login("f" + i, t, false));
        t += MIN;
      }
      run.send("acct", t, login("ok", t, true));
      run.send("acct", t + MIN, payment("out", t + MIN, PaymentKind.PAYOUT, 5000, "DE"));
      return run.alertsAt(Long.MAX_VALUE);
    }
  }

  @Test
  void accountTakeoverFiresOnFailedLoginsThenSuccessThenPayout() throws Exception {
    assertThat(takeover(3)).containsExactly("MATCH failed=[f0, f1, f2];login=[ok];payout=[out]");
  }

  @Test
  void accountTakeoverStaysQuietAfterTwoFailedLogins() throws Exception {
    assertThat(takeover(2)).isEmpty();
  }

  @Test
  void paymentTimeoutAlertsAndEmitsCancelOrderWhenUnpaidFor15Minutes() throws Exception {
    try (Run run = new Run("orders/payment-timeout.yaml", "orderId", OrderEvent.getClassSchema())) {
      run.send("o1", MIN, order("c", MIN, OrderStatus.CREATED));
      assertThat(run.alertsAt(15 * MIN)).isEmpty();
      assertThat(run.alertsAt(16 * MIN)).containsExactly("TIMEOUT created=[c]");
      assertThat(run.h.extractOutputValues().get(0).getTime()).isEqualTo(16 * MIN);
      assertThat(run.derived()).singleElement().satisfies(d -> {
        assertThat(d.getType()).isEqualTo("CancelOrder");
        assertThat(d.getOutput()).isEqualTo("order-commands");
        assertThat(d.getFields()).isEqualTo(Map.of("orderId", "o1", "customerId", "c1", "amount", 42.5, "reason", "no payment within 15 minutes"));
        assertThat(d.getCausedBy()).isEqualTo(run.h.extractOutputValues().get(0).getAlertId());
      });
    }
  }

  @Test
  void paymentTimeoutStaysQuietWhenPaidInTime() throws Exception {
    try (Run run = new Run("orders/payment-timeout.yaml", "orderId", OrderEvent.getClassSchema())) {
      run.send("o1", MIN, order("c", MIN, OrderStatus.CREATED)).send("o1", 10 * MIN, order("p", 10 * MIN, OrderStatus.PAID));
      assertThat(run.alertsAt(Long.MAX_VALUE)).isEmpty();
      assertThat(run.derived()).isEmpty();
      assertThat(TestEvents.numKeyedStateEntries(run.h)).isZero();
    }
  }

  @Test
  void cartAbandonmentFiresWhenNoCheckoutFollowsWithin30Minutes() throws Exception {
    try (Run run = new Run("activity/cart-abandonment.yaml", "userId", UserActivity.getClassSchema())) {
      run.send("u1", MIN, activity("a", MIN, UserAction.ADD_TO_CART)).send("u1", 2 * MIN, activity("v", 2 * MIN, UserAction.VIEW));
      assertThat(run.alertsAt(Long.MAX_VALUE)).containsExactly("MATCH added=[a]");
    }
  }

  @Test
  void cartAbandonmentStaysQuietAfterACheckout() throws Exception {
    try (Run run = new Run("activity/cart-abandonment.yaml", "userId", UserActivity.getClassSchema())) {
      run.send("u1", MIN, activity("a", MIN, UserAction.ADD_TO_CART)).send("u1", 10 * MIN, activity("c", 10 * MIN, UserAction.CHECKOUT));
      assertThat(run.alertsAt(Long.MAX_VALUE)).isEmpty();
    }
  }

  @Test
  void everyShippedRuleIsValid() {
    for (String path : RuleLibrary.SHIPPED) {
      org.assertj.core.api.Assertions.assertThatCode(() -> io.vigil.cep.compile.RuleCompiler.compile(RuleLibrary.shipped(path)))
          .as(path).doesNotThrowAnyException();
    }
  }
}
