package io.pgha.ha.vertx;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.ha.port.Dcs;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ZooKeeperDcsPortTest {
  @Test
  void syncKeyValueAsPatroniWritesIt() {
    assertThat(ZooKeeperDcsPort.syncValue("pg1", Set.of()))
        .isEqualTo("{\"leader\":\"pg1\",\"quorum\":0,\"sync_standby\":null}");
    assertThat(ZooKeeperDcsPort.syncValue("pg1", Set.of("pg3", "pg2")))
        .isEqualTo("{\"leader\":\"pg1\",\"quorum\":0,\"sync_standby\":\"pg2,pg3\"}");
  }

  @Test
  void historyAsPatroniWritesIt() {
    assertThat(ZooKeeperDcsPort.historyValue(List.of(
        new Dcs.HistoryEntry(1, 50331808, "no recovery target specified", "2026-12-05T17:00:00Z", "pg1"))))
        .isEqualTo("[[1,50331808,\"no recovery target specified\",\"2026-12-05T17:00:00Z\",\"pg1\"]]");
    assertThat(ZooKeeperDcsPort.historyValue(List.of())).isEqualTo("[]");
  }
}
