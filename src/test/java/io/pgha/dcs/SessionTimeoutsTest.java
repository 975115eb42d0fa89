package io.pgha.dcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.config.ConfigException;
import io.pgha.config.ConfigLoader;
import io.pgha.config.DynamicConfigJson;
import io.pgha.config.PghaConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SessionTimeoutsTest {
  private static final String MINIMAL = """
      scope: batman
      name: pg1
      restapi: {listen: 0.0.0.0:8008, connect_address: 10.0.0.1:8008}
      zookeeper: {hosts: 127.0.0.1:1}
      postgresql: {listen: 0.0.0.0:5432, connect_address: 10.0.0.1:5432, data_dir: /var/lib/pg/data}
      """;

  private static PghaConfig config(String extra) throws Exception {
    ObjectNode tree = (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree(MINIMAL + extra);
    return ConfigLoader.fromTree(tree, configured -> Path.of("/opt/fake-pg/bin"));
  }

  @ParameterizedTest
  @CsvSource({
      // ttl, loop_wait, tick, asked: two ticks below ttl while the fence keeps loop_wait + 1 s, else ttl
      "10, 2, 2000, 6000",
      "30, 10, 2000, 26000",
      "10, 2, 200, 9600",
      "5, 1, 200, 4600",
      "5, 1, 2000, 5000",
      "7, 1, 2000, 3000",
      "7, 3, 2000, 7000"})
  void asksForTwoTicksBelowTtlUnlessTheFenceWouldBeTooShort(int ttl, int loopWait, int tick, int asked) {
    var dynamic = DynamicConfigJson.parse(new ObjectMapper().createObjectNode().put("ttl", ttl)
        .put("loop_wait", loopWait).put("retry_timeout", 2));

    assertThat(SessionTimeouts.requestMs(dynamic, tick)).isEqualTo(asked);
  }

  @Test
  void theTickComesFromTheKeyWhenSet() throws Exception {
    PghaConfig config = config("pgha: {zookeeper_tick_time: 500}\nbootstrap: {dcs: {ttl: 10, loop_wait: 2, retry_timeout: 3}}\n");

    assertThat(SessionTimeouts.tickTimeMs(config)).isEqualTo(500);
    assertThat(SessionTimeouts.sessionTimeoutMs(config, SessionTimeouts.tickTimeMs(config))).isEqualTo(9000);
  }

  @Test
  void withoutTheKeyNorAServerToAskTheTickIsZooKeepersDefault() throws Exception {
    assertThat(SessionTimeouts.tickTimeMs(config(""))).isEqualTo(SessionTimeouts.TICK_TIME_DEFAULT_MS);
  }

  @Test
  void aBadTickIsAOneLineError() throws Exception {
    PghaConfig config = config("pgha: {zookeeper_tick_time: fast}\n");

    assertThatThrownBy(() -> SessionTimeouts.checkedTickTimeMs(config)).isInstanceOf(ConfigException.class)
        .hasMessage("pgha.zookeeper_tick_time: must be the ZooKeeper ensemble's tickTime in ms (1..60000), got 'fast'");
  }

  @Test
  void readsTheTickFromTheConfFourLetterWord() {
    assertThat(SessionTimeouts.tickFromConf("clientPort=2181\ndataDir=/x\ntickTime=2000\nmaxClientCnxns=60\n"))
        .isEqualTo(2000);
    assertThat(SessionTimeouts.tickFromConf("conf is not executed because it is not in the whitelist.\n")).isNull();
  }
}
