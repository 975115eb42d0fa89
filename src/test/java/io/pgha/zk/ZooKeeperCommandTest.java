package io.pgha.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZooKeeperCommandTest {
  @TempDir Path dir;

  @Test
  void theDefaultTickKeepsExplicitSessionBounds() throws Exception {
    Properties p = ZooKeeperCommand.properties(new String[] {"--data", dir.toString()});

    assertThat(p.getProperty("tickTime")).isEqualTo("200");
    assertThat(p.getProperty("minSessionTimeout")).isEqualTo("2000");
    assertThat(p.getProperty("maxSessionTimeout")).isEqualTo("120000");
  }

  @Test
  void aStockTickLeavesTheSessionBoundsToZooKeepersRule() throws Exception {
    Properties p = ZooKeeperCommand.properties(new String[] {"--data", dir.toString(), "--tick-time", "2000"});

    assertThat(p.getProperty("tickTime")).isEqualTo("2000");
    assertThat(p.getProperty("minSessionTimeout")).isNull();
    assertThat(p.getProperty("maxSessionTimeout")).isNull();
    assertThat(p.getProperty("initLimit")).isEqualTo("5");
    assertThat(p.getProperty("syncLimit")).isEqualTo("2");
  }

  @Test
  void aBadTickIsRefused() {
    assertThatThrownBy(() -> ZooKeeperCommand.properties(new String[] {"--tick-time", "0"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--tick-time must be 1..60000 ms, got 0");
    assertThatThrownBy(() -> ZooKeeperCommand.properties(new String[] {"--tick-time", "2s"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tick-time must be a whole number of ms (1..60000), got '2s'");
  }
}
