package io.pgha.ha.vertx;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.ha.port.Dcs;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ZooKeeperDcsPortTest {
  @Test
  void syncKeyValueAsPatroniWritesIt() {
    assertThat(ZooKeeperDcsPort.syncValue("pg1", Set.of(), 0))
        .isEqualTo("{\"leader\":\"pg1\",\"quorum\":0,\"sync_standby\":null}");
    assertThat(ZooKeeperDcsPort.syncValue("pg1", Set.of("pg3", "pg2"), 0))
        .isEqualTo("{\"leader\":\"pg1\",\"quorum\":0,\"sync_standby\":\"pg2,pg3\"}");
    assertThat(ZooKeeperDcsPort.syncValue("pg1", Set.of("pg3", "pg2"), 1))
        .isEqualTo("{\"leader\":\"pg1\",\"quorum\":1,\"sync_standby\":\"pg2,pg3\"}");
  }

  @Test
  void historyAsPatroniWritesIt() {
    assertThat(ZooKeeperDcsPort.historyValue(List.of(
        new Dcs.HistoryEntry(1, 50331808, "no recovery target specified", "2026-12-05T17:00:00Z", "pg1"))))
        .isEqualTo("[[1,50331808,\"no recovery target specified\",\"2026-12-05T17:00:00Z\",\"pg1\"]]");
    assertThat(ZooKeeperDcsPort.historyValue(List.of())).isEqualTo("[]");
  }

  @Test
  void historyKeepsTheTimeAndLeaderOfEntriesAlreadyWritten() {
    String before = "[[1,50331808,\"no recovery target specified\",\"2026-12-05T17:00:00Z\",\"pg2\"]]";
    List<Dcs.HistoryEntry> fromTimelineFile = List.of(
        new Dcs.HistoryEntry(1, 50331808, "no recovery target specified", "2026-12-05T18:00:00Z", "pg3"),
        new Dcs.HistoryEntry(2, 67109488, "no recovery target specified", "2026-12-05T18:00:00Z", "pg3"));
    assertThat(ZooKeeperDcsPort.historyValue(ZooKeeperDcsPort.keepKnown(fromTimelineFile,
        ZooKeeperDcsPort.parseHistory(before.getBytes(java.nio.charset.StandardCharsets.UTF_8)))))
        .isEqualTo("[[1,50331808,\"no recovery target specified\",\"2026-12-05T17:00:00Z\",\"pg2\"],"
            + "[2,67109488,\"no recovery target specified\",\"2026-12-05T18:00:00Z\",\"pg3\"]]");
  }

  @Test
  void historyEntriesWithoutTimeOrLeaderAreStampedByTheWriter() {
    List<Dcs.HistoryEntry> fresh = List.of(new Dcs.HistoryEntry(1, 100, "r", "t2", "pg3"));
    assertThat(ZooKeeperDcsPort.keepKnown(fresh, ZooKeeperDcsPort.parseHistory("[[1,100,\"r\"]]".getBytes())))
        .isEqualTo(fresh);
    assertThat(ZooKeeperDcsPort.keepKnown(fresh, ZooKeeperDcsPort.parseHistory("not json".getBytes())))
        .isEqualTo(fresh);
    assertThat(ZooKeeperDcsPort.keepKnown(fresh, ZooKeeperDcsPort.parseHistory(null))).isEqualTo(fresh);
    // another switch LSN on the same timeline is another history (a rebuilt cluster): not kept
    assertThat(ZooKeeperDcsPort.keepKnown(fresh,
        ZooKeeperDcsPort.parseHistory("[[1,200,\"r\",\"t1\",\"pg1\"]]".getBytes()))).isEqualTo(fresh);
  }
}
