package io.pgha.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Patroni's patch_config / deep_compare, text comparison included (§5.7). */
class ConfigMergeTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void objectsMergeNullDeletesOtherValuesReplace() throws Exception {
    ObjectNode config = object("{\"ttl\":30,\"postgresql\":{\"parameters\":{\"a\":1,\"b\":2},\"use_pg_rewind\":true},"
        + "\"tags\":[1,2],\"standby\":5}");

    boolean changed = ConfigMerge.patch(config, object("{\"postgresql\":{\"parameters\":{\"a\":null,\"c\":3}},"
        + "\"tags\":{\"x\":null},\"standby\":{\"host\":\"h\"},\"new\":{\"k\":null}}"));

    assertThat(changed).isTrue();
    // an object replacing a non-object is stored as sent, nulls included (Python stores the dict it got)
    assertThat(config).isEqualTo(object("{\"ttl\":30,\"postgresql\":{\"parameters\":{\"b\":2,\"c\":3},"
        + "\"use_pg_rewind\":true},\"tags\":{\"x\":null},\"standby\":{\"host\":\"h\"},\"new\":{\"k\":null}}"));
  }

  @Test
  void scalarsCompareAsPythonText() throws Exception {
    ObjectNode config = object("{\"ttl\":30,\"pause\":true,\"ratio\":1.5,\"list\":[1,\"a\",null,true],"
        + "\"nothing\":null}");

    assertThat(ConfigMerge.patch(config, object("{\"ttl\":\"30\",\"pause\":\"True\",\"ratio\":\"1.5\","
        + "\"list\":\"[1, 'a', None, True]\",\"nothing\":\"None\"}"))).isFalse();
    assertThat(config).isEqualTo(object("{\"ttl\":30,\"pause\":true,\"ratio\":1.5,\"list\":[1,\"a\",null,true],"
        + "\"nothing\":null}"));

    assertThat(ConfigMerge.patch(config, object("{\"pause\":\"true\"}"))).isTrue();
    assertThat(config.get("pause").asText()).isEqualTo("true");
    assertThat(ConfigMerge.patch(config, object("{\"ttl\":30.0}"))).isTrue(); // "30" != "30.0"
  }

  @Test
  void deletingAbsentOrNullKeysIsNoChange() throws Exception {
    ObjectNode config = object("{\"a\":null,\"b\":1}");

    assertThat(ConfigMerge.patch(config, object("{\"a\":null,\"missing\":null}"))).isFalse();
    assertThat(config).isEqualTo(object("{\"b\":1}")); // Python pops it all the same
    assertThat(ConfigMerge.patch(config, object("{\"b\":null}"))).isTrue();
    assertThat(config).isEqualTo(object("{}"));
  }

  @Test
  void sameTextNeedsTheSameKeysAndTextEqualValues() throws Exception {
    ObjectNode stored = object("{\"ttl\":30,\"postgresql\":{\"parameters\":{\"max_connections\":100}},\"x\":[1,2]}");

    assertThat(ConfigMerge.sameText(object("{\"ttl\":\"30\",\"postgresql\":{\"parameters\":"
        + "{\"max_connections\":\"100\"}},\"x\":\"[1, 2]\"}"), stored)).isTrue();
    assertThat(ConfigMerge.sameText(object("{\"ttl\":30,\"postgresql\":{\"parameters\":{}},\"x\":[1,2]}"), stored))
        .isFalse();
    assertThat(ConfigMerge.sameText(object("{\"ttl\":30,\"postgresql\":{\"parameters\":{\"max_connections\":100}}}"),
        stored)).isFalse();
    assertThat(ConfigMerge.sameText(object("{\"ttl\":30,\"postgresql\":\"{}\",\"x\":[1,2]}"), stored)).isFalse();
    assertThat(ConfigMerge.sameText(object("{\"a\":null}"), object("{}"))).isFalse();
  }

  @ParameterizedTest
  @CsvSource({
      "1.0, 1.0", "0.5, 0.5", "0.0001, 0.0001", "0.00001, 1e-05", "1e16, 1e+16", "1e15, 1000000000000000.0",
      "123456789.125, 123456789.125", "-2.5e-7, -2.5e-07", "1.7976931348623157e308, 1.7976931348623157e+308"})
  void floatsPrintAsPythonRepr(double value, String python) {
    assertThat(ConfigMerge.pythonFloat(value)).isEqualTo(python);
  }

  @Test
  void stringsInsideContainersPrintAsPythonRepr() throws Exception {
    assertThat(ConfigMerge.pythonStr(JSON.readTree("{\"it's\":\"a\\nb\",\"q\":\"\\\"\"}")))
        .isEqualTo("{\"it's\": 'a\\nb', 'q': '\"'}");
    assertThat(ConfigMerge.pythonStr(JSON.readTree("\"plain text\""))).isEqualTo("plain text");
    assertThat(ConfigMerge.pythonStr(JSON.readTree("123456789012345678901234567890")))
        .isEqualTo("123456789012345678901234567890");
  }

  private static ObjectNode object(String json) throws Exception {
    return (ObjectNode) JSON.readTree(json);
  }
}
