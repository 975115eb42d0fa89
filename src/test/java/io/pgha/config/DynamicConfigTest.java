package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.config.DynamicConfig.SyncMode;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class DynamicConfigTest {

  private static DynamicConfig parse(String yaml) throws Exception {
    return DynamicConfigJson.parse(PatroniYaml.parse(yaml));
  }

  @Test
  void defaultsAreThoseOfPatroni() {
    DynamicConfig config = DynamicConfig.defaults();

    assertThat(config.ttlSeconds()).isEqualTo(30);
    assertThat(config.loopWaitSeconds()).isEqualTo(10);
    assertThat(config.retryTimeoutSeconds()).isEqualTo(10);
    assertThat(config.maximumLagOnFailoverBytes()).isEqualTo(1048576);
    assertThat(config.primaryStartTimeoutSeconds()).isEqualTo(300);
    assertThat(config.primaryStopTimeoutSeconds()).isZero();
    assertThat(config.synchronousMode()).isEqualTo(SyncMode.OFF);
    assertThat(config.synchronousModeStrict()).isFalse();
    assertThat(config.synchronousNodeCount()).isEqualTo(1);
    assertThat(config.checkTimeline()).isFalse();
    assertThat(config.usePgRewind()).isFalse();
    assertThat(config.useSlots()).isTrue();
    assertThat(config.pause()).isFalse();
    assertThat(config.postgresqlParameters()).isEmpty();
    assertThat(config.warnings()).isEmpty();
  }

  @Test
  void nullOrNonObjectTreesGiveDefaults() {
    assertThat(DynamicConfigJson.parse(null).ttlSeconds()).isEqualTo(30);
    assertThat(DynamicConfigJson.parse(com.fasterxml.jackson.databind.node.TextNode.valueOf("x")).loopWaitSeconds())
        .isEqualTo(10);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "'true' | true",
      "'on' | true",
      "'ON' | true",
      "yes | true",
      "1 | true",
      "'false' | false",
      "'off' | false",
      "no | false",
      "0 | false",
  })
  void booleansMayBeWrittenAsPatroniAllows(String written, boolean expected) throws Exception {
    DynamicConfig config = parse("pause: " + written + "\ncheck_timeline: " + written
        + "\nsynchronous_mode_strict: " + written + "\npostgresql: {use_pg_rewind: " + written
        + ", use_slots: " + written + "}\n");

    assertThat(config.pause()).isEqualTo(expected);
    assertThat(config.checkTimeline()).isEqualTo(expected);
    assertThat(config.synchronousModeStrict()).isEqualTo(expected);
    assertThat(config.usePgRewind()).isEqualTo(expected);
    assertThat(config.useSlots()).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "true | ON",
      "'on' | ON",
      "'true' | ON",
      "quorum | QUORUM",
      "'Quorum' | QUORUM",
      "false | OFF",
      "'off' | OFF",
      "'' | OFF",
      "~ | OFF",
  })
  void synchronousModeForms(String written, SyncMode expected) throws Exception {
    DynamicConfig config = parse("synchronous_mode: " + written + "\n");

    assertThat(config.synchronousMode()).isEqualTo(expected);
    assertThat(config.synchronousModeActive()).isEqualTo(expected != SyncMode.OFF);
  }

  @Test
  void nullSynchronousModeIsOff() throws Exception {
    DynamicConfig config = parse("synchronous_mode: null\nsynchronous_mode_strict: null\n");

    assertThat(config.synchronousMode()).isEqualTo(SyncMode.OFF);
    assertThat(config.synchronousModeStrict()).isFalse();
    assertThat(config.warnings()).isEmpty();
  }

  @Test
  void numbersMayBeStrings() throws Exception {
    DynamicConfig config = parse("""
        ttl: '40'
        loop_wait: "5"
        retry_timeout: '12'
        maximum_lag_on_failover: '2048'
        primary_start_timeout: '0'
        primary_stop_timeout: '30'
        synchronous_node_count: '2'
        """);

    assertThat(config.ttlSeconds()).isEqualTo(40);
    assertThat(config.loopWaitSeconds()).isEqualTo(5);
    assertThat(config.retryTimeoutSeconds()).isEqualTo(12);
    assertThat(config.maximumLagOnFailoverBytes()).isEqualTo(2048);
    assertThat(config.primaryStartTimeoutSeconds()).isZero();
    assertThat(config.primaryStopTimeoutSeconds()).isEqualTo(30);
    assertThat(config.synchronousNodeCount()).isEqualTo(2);
    assertThat(config.warnings()).isEmpty();
  }

  static Stream<Arguments> valuesBelowTheMinimumAreRaisedWithAWarning() {
    return Stream.of(
        Arguments.of("ttl", DynamicConfig.TTL_MIN),
        Arguments.of("loop_wait", DynamicConfig.LOOP_WAIT_MIN),
        Arguments.of("retry_timeout", DynamicConfig.RETRY_TIMEOUT_MIN));
  }

  @ParameterizedTest
  @MethodSource
  void valuesBelowTheMinimumAreRaisedWithAWarning(String key, int minimum) throws Exception {
    int written = minimum - 1;
    // a ttl large enough that raising one value never also trips the timing rule
    String ttl = key.equals("ttl") ? "" : "ttl: 60\n";

    DynamicConfig config = parse(ttl + key + ": " + written + "\n");

    int actual = switch (key) {
      case "ttl" -> config.ttlSeconds();
      case "loop_wait" -> config.loopWaitSeconds();
      default -> config.retryTimeoutSeconds();
    };
    assertThat(actual).isEqualTo(minimum);
    assertThat(config.warnings())
        .contains(key + "=" + written + " is below the minimum " + minimum + ": using " + minimum);
  }

  @Test
  void loopWaitShrinksToFitTheTimingRule() throws Exception {
    DynamicConfig config = parse("ttl: 30\nloop_wait: 20\nretry_timeout: 10\n");

    assertThat(config.ttlSeconds()).isEqualTo(30);
    assertThat(config.loopWaitSeconds()).isEqualTo(10);
    assertThat(config.retryTimeoutSeconds()).isEqualTo(10);
    assertThat(config.warnings()).containsExactly(
        "loop_wait + 2*retry_timeout must be <= ttl: loop_wait lowered from 20 to 10");
  }

  @Test
  void retryTimeoutShrinksWhenEvenTheSmallestLoopWaitDoesNotFit() throws Exception {
    DynamicConfig config = parse("ttl: 30\nloop_wait: 10\nretry_timeout: 15\n");

    assertThat(config.loopWaitSeconds()).isEqualTo(1);
    assertThat(config.retryTimeoutSeconds()).isEqualTo(14);
    assertThat(config.loopWaitSeconds() + 2 * config.retryTimeoutSeconds()).isLessThanOrEqualTo(config.ttlSeconds());
    assertThat(config.warnings()).containsExactly(
        "loop_wait + 2*retry_timeout must be <= ttl: loop_wait set to 1 and retry_timeout to 14");
  }

  @Test
  void timingsThatFitAreLeftAlone() throws Exception {
    DynamicConfig config = parse("ttl: 20\nloop_wait: 4\nretry_timeout: 8\n");

    assertThat(config.loopWaitSeconds()).isEqualTo(4);
    assertThat(config.retryTimeoutSeconds()).isEqualTo(8);
    assertThat(config.warnings()).isEmpty();
  }

  @Test
  void unparsableNumbersFallBackToTheDefaultWithAWarning() throws Exception {
    DynamicConfig config = parse("maximum_lag_on_failover: lots\nttl: soon\n");

    assertThat(config.maximumLagOnFailoverBytes()).isEqualTo(1048576);
    assertThat(config.ttlSeconds()).isEqualTo(30);
    assertThat(config.warnings()).contains(
        "maximum_lag_on_failover=\"lots\" is not a number: using 1048576", "ttl=\"soon\" is not a number: using 30");
  }

  @Test
  void primaryTimeoutsAcceptTheirMasterAliasesButPrimaryWins() throws Exception {
    assertThat(parse("master_start_timeout: 60\nmaster_stop_timeout: 5\n"))
        .extracting(DynamicConfig::primaryStartTimeoutSeconds, DynamicConfig::primaryStopTimeoutSeconds)
        .containsExactly(60, 5);
    assertThat(parse("master_start_timeout: 60\nprimary_start_timeout: 120\n").primaryStartTimeoutSeconds())
        .isEqualTo(120);
  }

  @Test
  void parametersAndRawAreCopies() throws Exception {
    JsonNode tree = PatroniYaml.parse("postgresql: {parameters: {max_connections: 200, work_mem: 8MB}}\n");

    DynamicConfig config = DynamicConfigJson.parse(tree);
    ((com.fasterxml.jackson.databind.node.ObjectNode) tree.at("/postgresql/parameters")).put("work_mem", "1GB");

    assertThat(config.postgresqlParameters().get("max_connections")).isEqualTo("200");
    assertThat(config.postgresqlParameters().get("work_mem")).isEqualTo("8MB");
    assertThat(DynamicConfigJson.tree(config).at("/postgresql/parameters/work_mem").asText()).isEqualTo("8MB");
  }

  @Test
  void defaultsAreWhatAnEmptyKeyGives() throws Exception {
    assertThat(DynamicConfig.defaults()).isEqualTo(DynamicConfigJson.parse(PatroniYaml.parse("{}\n")));
  }

  @Test
  void parametersAreGucTextAndNullMeansUnset() throws Exception {
    DynamicConfig config = parse("postgresql: {parameters: {hot_standby: true, wal_keep_segments: null, x: 1.5}}\n");

    assertThat(config.postgresqlParameters()).containsEntry("hot_standby", "on").containsEntry("x", "1.5")
        .containsKey("wal_keep_segments");
    assertThat(config.postgresqlParameters().get("wal_keep_segments")).isNull();
  }

  @Test
  void rawIsCanonicalSoEqualTreesGiveEqualConfigs() throws Exception {
    DynamicConfig a = parse("{ttl: 30, postgresql: {use_slots: true, parameters: {a: 1, b: 2}}}\n");
    DynamicConfig b = parse("{postgresql: {parameters: {b: 2, a: 1}, use_slots: true}, ttl: 30}\n");

    assertThat(a.raw()).isEqualTo("{\"postgresql\":{\"parameters\":{\"a\":1,\"b\":2},\"use_slots\":true},\"ttl\":30}");
    assertThat(a).isEqualTo(b);
    assertThat(DynamicConfigJson.changedKeys(a, parse("{ttl: 31, postgresql: {use_slots: true, parameters: {a: 1, b: 2}}}\n")))
        .containsExactly("ttl");
    assertThat(DynamicConfigJson.pgHba(parse("postgresql: {pg_hba: ['host all all 0.0.0.0/0 md5', '']}\n")))
        .containsExactly("host all all 0.0.0.0/0 md5");
  }
}
