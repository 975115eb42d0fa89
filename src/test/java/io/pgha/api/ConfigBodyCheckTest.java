package io.pgha.api;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigBodyCheckTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"ttl\": 30}", "{\"ttl\": \"30\"}", "{\"loop_wait\": null}", "{\"pause\": \"True\"}", "{\"pause\": 1}",
      "{\"synchronous_mode\": \"on\"}", "{\"maximum_lag_on_syncnode\": \"-1\"}",
      "{\"postgresql\": {\"use_pg_rewind\": \"true\", \"parameters\": {\"max_connections\": \"200\"}}}",
      "{\"postgresql\": null}", "{\"unknown\": [1, {\"x\": 2}]}", "{\"slots\": {\"s\": {\"type\": \"physical\"}}}"})
  void whatPatroniTakesPasses(String body) throws Exception {
    assertThatCode(() -> ConfigBodyCheck.check((ObjectNode) JSON.readTree(body))).doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"ttl\": \"thirty\"}|ttl must be an integer, got string \"thirty\"",
      "{\"ttl\": [30]}|ttl must be an integer, got array [30]",
      "{\"pause\": \"maybe\"}|pause must be a boolean (true/false), got string \"maybe\"",
      "{\"pause\": {}}|pause must be a boolean (true/false), got object {}",
      "{\"postgresql\": 5}|postgresql must be an object, got number 5",
      "{\"postgresql\": {\"use_slots\": \"often\"}}|postgresql.use_slots must be a boolean (true/false), got string \"often\"",
      "{\"postgresql\": {\"parameters\": []}}|postgresql.parameters must be an object, got array []",
      "{\"postgresql\": {\"parameters\": {\"work_mem\": {\"a\": 1}}}}|postgresql.parameters.work_mem must be a single value, got object {\"a\":1}"})
  void aWrongTypeIsA400WithOneLine(String caseText) throws Exception {
    String[] parts = caseText.split("\\|", 2);
    assertThatThrownBy(() -> ConfigBodyCheck.check((ObjectNode) JSON.readTree(parts[0])))
        .isInstanceOfSatisfying(RequestRejected.class, e -> org.assertj.core.api.Assertions.assertThat(e.status())
            .isEqualTo(400))
        .hasMessage(parts[1]);
  }
}
