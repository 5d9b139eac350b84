package io.vigil.cep.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vigil.cep.rule.Rule;
import io.vigil.cep.rule.RuleException;
import org.apache.flink.cep.nfa.aftermatch.SkipToFirstStrategy;
import org.apache.flink.cep.pattern.Quantifier;
import org.junit.jupiter.api.Test;

class RuleCompilerTest {

  private static final String VALID =
      """
      id: payments.small-then-large
      version: 3
      description: test
      severity: critical
      eventTypes: [Payment]
      key: cardId
      within: 10 min
      afterMatch: skip-to-first(small)
      pattern:
        - name: small
          where: amount < 5.0
          timesOrMore: 3
          consecutive: true
        - name: large
          after: followedByAny
          where: amount > sum(small.amount) * 10.0 && count(small) >= 3 && country == first(small).country
      emit:
        alerts: [match, timeout]
      """;

  private static String errorOf(String yaml) {
    try {
      RuleCompiler.compile(yaml);
    } catch (RuleException e) {
      return e.getMessage();
    }
    throw new AssertionError("expected a RuleException for\n" + yaml);
  }

  @Test
  void compilesAValidRuleToAFlinkPattern() throws Exception {
    CompiledRule c = RuleCompiler.compile(VALID);
    Rule r = c.rule();
    assertThat(r.id()).isEqualTo("payments.small-then-large");
    assertThat(r.version()).isEqualTo(3);
    assertThat(r.within()).hasMinutes(10);
    assertThat(c.stageNames()).containsExactly("small", "large");
    assertThat(c.skipStrategy()).isInstanceOf(SkipToFirstStrategy.class);
    assertThat(c.pattern().getName()).isEqualTo("large");
    assertThat(c.pattern().getQuantifier().getConsumingStrategy()).isEqualTo(Quantifier.ConsumingStrategy.SKIP_TILL_ANY);
    assertThat(c.pattern().getPrevious().getQuantifier().hasProperty(Quantifier.QuantifierProperty.LOOPING)).isTrue();
    assertThat(c.pattern().getPrevious().getTimes().getFrom()).isEqualTo(3);
  }

  @Test
  void rejectsAnUnknownFieldWithTheRuleLineAndColumn() {
    assertThat(errorOf(VALID.replace("first(small).country", "first(small).cuntry")))
        .startsWith("rule 'payments.small-then-large' line 16: large.where: undefined field 'cuntry'");
  }

  @Test
  void rejectsAConditionOfTheWrongType() {
    assertThat(errorOf(VALID.replace("where: amount < 5.0", "where: amount + 1.0")))
        .startsWith("rule 'payments.small-then-large' line 11: small.where: expected type 'bool' but found 'double'");
  }

  @Test
  void rejectsAnUnknownKeyInTheDocument() {
    assertThat(errorOf(VALID.replace("    consecutive: true", "    consecutiv: true")))
        .startsWith("rule 'payments.small-then-large' line 13: pattern[0].consecutiv: unknown key");
  }

  @Test
  void rejectsImpossibleQuantifiers() {
    assertThat(errorOf(VALID.replace("timesOrMore: 3", "times: [4, 2]")))
        .isEqualTo("rule 'payments.small-then-large' line 12: pattern[0].times: [4, 2] is not a range 0 <= from <= to, to >= 1");
    assertThat(errorOf(VALID.replace("    timesOrMore: 3\n", "")))
        .startsWith("rule 'payments.small-then-large' line 10: pattern[0].consecutive and allowCombinations apply only to a quantified stage");
  }

  @Test
  void rejectsUnknownEventTypesAndKeys() {
    assertThat(errorOf(VALID.replace("[Payment]", "[Paymnt]")))
        .startsWith("rule 'payments.small-then-large' line 1: eventTypes: unknown event type 'Paymnt'");
    assertThat(errorOf(VALID.replace("key: cardId", "key: card")))
        .isEqualTo("rule 'payments.small-then-large' line 1: key: event type Payment has no field 'card'");
  }

  @Test
  void reportsFlinksOwnPatternChecks() {
    String trailingNegation =
        VALID.replace("within: 10 min\n", "").replace("emit:\n  alerts: [match, timeout]\n", "").replace("after: followedByAny", "after: notFollowedBy");
    assertThat(errorOf(trailingNegation))
        .isEqualTo("rule 'payments.small-then-large' line 9: pattern: NotFollowedBy is not supported without windowTime as a last part of a Pattern!");
  }

  @Test
  void rejectsTimeoutAlertsWithoutAWindow() {
    assertThat(errorOf(VALID.replace("within: 10 min\n", "")))
        .contains("timeouts need a 'within' duration");
  }

  @Test
  void rejectsArrivalOrderForARuleThatIsNotASimpleSequence() {
    // VALID has a quantified stage and timeout alerts: only event-time order can run it.
    assertThat(errorOf(VALID.replace("key: cardId\n", "key: cardId\norder: arrival\n")))
        .startsWith("rule 'payments.small-then-large' line 7: order: arrival needs a simple sequence");
    assertThat(errorOf(VALID.replace("key: cardId\n", "key: cardId\norder: sideways\n")))
        .startsWith("rule 'payments.small-then-large' line 7: order: 'sideways' is not event-time or arrival");
  }

  @Test
  void reportsYamlSyntaxErrorsWithTheirLine() {
    assertThat(errorOf("id: x\nversion: 1\npattern: [\n")).startsWith("rule '?' line 4: not valid YAML");
  }

  @Test
  void rejectsStageNamesThatHideEventFields() {
    assertThat(errorOf(VALID.replace("name: large", "name: amount").replace("afterMatch: skip-to-first(small)\n", "")))
        .isEqualTo("rule 'payments.small-then-large' line 13: stage name 'amount' would hide the event field of that name; rename the stage");
  }
}
