package io.vigil.functions.window;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

class GroupKeySelectorTest {

  private final Readings readings = new Readings();

  @Test
  void valuesContainingSeparatorsStillGiveDistinctKeys() throws Exception {
    GroupKeySelector selector = new GroupKeySelector(List.of("deviceId", "site"));
    String first = selector.getKey(readings.reading("a|b", "c", 1, 1.0));
    String second = selector.getKey(readings.reading("a", "b|c", 1, 1.0));
    String third = selector.getKey(readings.reading("a:1", "", 1, 1.0));
    assertThat(first).isNotEqualTo(second);
    assertThat(List.of(first, second, third)).doesNotHaveDuplicates();
    assertThat(GroupKeySelector.decode(first, List.of("deviceId", "site")))
        .isEqualTo(Map.of("deviceId", "a|b", "site", "c"));
    assertThat(GroupKeySelector.decode(third, List.of("deviceId", "site")))
        .isEqualTo(Map.of("deviceId", "a:1", "site", ""));
  }

  @Test
  void sameValuesGiveTheSameKeyInGroupByOrder() throws Exception {
    GroupKeySelector selector = new GroupKeySelector(List.of("site", "deviceId"));
    GenericRecord one = readings.reading("d7", "north", 1, 1.0);
    GenericRecord other = readings.reading("d7", "north", 99, 5.0);
    assertThat(selector.getKey(one)).isEqualTo(selector.getKey(other));
    Map<String, String> groupKey =
        GroupKeySelector.decode(selector.getKey(one), List.of("site", "deviceId"));
    assertThat(new LinkedHashMap<>(groupKey).keySet()).containsExactly("site", "deviceId");
    assertThat(groupKey).containsEntry("site", "north").containsEntry("deviceId", "d7");
  }

  @Test
  void nullDiffersFromTheTextNullAndRoundTrips() {
    List<String> values = Arrays.asList(null, "null", "", "~", "3:x");
    String key = GroupKeySelector.encode(values);
    assertThat(GroupKeySelector.decodeValues(key)).isEqualTo(values);
    assertThat(GroupKeySelector.encode(Arrays.asList("null", null)))
        .isNotEqualTo(GroupKeySelector.encode(Arrays.asList(null, "null")));
    assertThat(GroupKeySelector.decode(key, List.of("a", "b", "c", "d", "e")))
        .doesNotContainKey("a")
        .containsEntry("b", "null")
        .containsEntry("d", "~");
  }

  @Test
  void decodeRejectsKeysNotMadeByEncode() {
    assertThatThrownBy(() -> GroupKeySelector.decodeValues("5:ab"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed group key");
    assertThatThrownBy(() -> GroupKeySelector.decodeValues("ab"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> GroupKeySelector.decode("1:a", List.of("x", "y")))
        .hasMessageContaining("has 1 values for group-by [x, y]");
  }
}
