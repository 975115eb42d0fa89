package io.pgha.ha.vertx;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.ha.port.Dcs;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusSlotsTest {

  @Test
  void writesPatronisStatusValue() {
    assertThat(ZooKeeperDcsPort.statusValue(67420024, new Dcs.SlotStatus(
        Map.of("pg_node_2", 67420024L, "logical_a", 67100000L, "pg_node_1", 67420024L),
        List.of("pg_node_2", "pg_node_1"))))
        .isEqualTo("{\"optime\":67420024,\"slots\":{\"logical_a\":67100000,\"pg_node_1\":67420024,"
            + "\"pg_node_2\":67420024},\"retain_slots\":[\"pg_node_1\",\"pg_node_2\"]}");
    assertThat(ZooKeeperDcsPort.statusValue(5, Dcs.SlotStatus.EMPTY)).isEqualTo("{\"optime\":5}");
  }

  @Test
  void readsItBackAndToleratesGarbage() {
    Dcs.SlotStatus s = ZooKeeperDcsPort.parseSlotStatus(("{\"optime\":1,\"slots\":{\"a\":10,\"b\":\"x\"},"
        + "\"retain_slots\":[\"a\"]}").getBytes(StandardCharsets.UTF_8));
    assertThat(s.slots()).containsExactlyEntriesOf(Map.of("a", 10L));
    assertThat(s.retainSlots()).containsExactly("a");
    assertThat(ZooKeeperDcsPort.parseSlotStatus("{\"optime\":1,\"retain_slots\":\"[\\\"c\\\"]\"}"
        .getBytes(StandardCharsets.UTF_8)).retainSlots()).containsExactly("c");
    assertThat(ZooKeeperDcsPort.parseSlotStatus("12345".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(Dcs.SlotStatus.EMPTY);
    assertThat(ZooKeeperDcsPort.parseSlotStatus("{nope".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(Dcs.SlotStatus.EMPTY);
    assertThat(ZooKeeperDcsPort.parseSlotStatus(null)).isEqualTo(Dcs.SlotStatus.EMPTY);
  }
}
