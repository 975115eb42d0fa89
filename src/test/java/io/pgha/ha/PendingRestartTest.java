package io.pgha.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.ha.port.Postgres;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PendingRestartTest {
  @Test
  void reasonAsPatroniPublishesIt() {
    Map<String, Postgres.PendingSetting> pending = new TreeMap<>();
    pending.put("max_connections", new Postgres.PendingSetting("100", "200"));
    pending.put("shared_buffers", new Postgres.PendingSetting("128MB", null));
    assertThat(PendingRestart.toJson(pending)).hasToString(
        "{\"max_connections\":{\"old_value\":\"100\",\"new_value\":\"200\"},"
            + "\"shared_buffers\":{\"old_value\":\"128MB\",\"new_value\":null}}");
    assertThat(PendingRestart.toJson(Map.of())).isNull();
  }
}
