package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dynamic configuration's {@code standby_cluster} section (patroni-compat §10.3). */
class StandbyClusterJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static DynamicConfig parse(String json) throws Exception {
    return DynamicConfigJson.parse(JSON.readTree(json));
  }

  @Test
  void allKeysAreRead() throws Exception {
    DynamicConfig cfg = parse("{\"standby_cluster\":{\"host\":\"10.0.0.9\",\"port\":\"6432\",\"primary_slot_name\":"
        + "\"b\",\"create_replica_methods\":[\"basebackup\"],\"restore_command\":\"cp /a/%f %p\","
        + "\"archive_cleanup_command\":\"c\",\"recovery_min_apply_delay\":300}}");
    assertThat(cfg.isStandbyCluster()).isTrue();
    assertThat(cfg.standbyCluster()).isEqualTo(new StandbyCluster("10.0.0.9", 6432, "b", List.of("basebackup"),
        "cp /a/%f %p", "c", "300"));
    assertThat(cfg.standbyCluster().upstream()).isEqualTo("remote member 10.0.0.9:6432");
    assertThat(StandbyCluster.isRemote(cfg.standbyCluster().upstream())).isTrue();
    assertThat(StandbyCluster.isRemote("m1")).isFalse();
    assertThat(cfg.warnings()).isEmpty();
  }

  @Test
  void activeOnlyWithHostPortOrRestoreCommand() throws Exception {
    assertThat(parse("{}").isStandbyCluster()).isFalse();
    assertThat(parse("{\"standby_cluster\":null}").isStandbyCluster()).isFalse();
    assertThat(parse("{\"standby_cluster\":{\"primary_slot_name\":\"b\",\"host\":\"\"}}").isStandbyCluster())
        .isFalse();
    assertThat(parse("{\"standby_cluster\":{\"port\":5433}}").standbyCluster().effectivePort()).isEqualTo(5433);
    assertThat(parse("{\"standby_cluster\":{\"restore_command\":\"x\"}}").standbyCluster().host()).isNull();
    assertThat(parse("{\"standby_cluster\":{\"host\":\"h\"}}").standbyCluster().effectivePort()).isEqualTo(5432);
  }

  @Test
  void synchronousModeIsOffInAStandbyCluster() throws Exception {
    assertThat(parse("{\"synchronous_mode\":true,\"standby_cluster\":{\"host\":\"h\"}}").synchronousMode())
        .isEqualTo(DynamicConfig.SyncMode.OFF);
    assertThat(parse("{\"synchronous_mode\":true}").synchronousMode()).isEqualTo(DynamicConfig.SyncMode.ON);
  }

  @Test
  void whatCannotBeHonouredIsWarnedAbout() throws Exception {
    List<String> warnings = new ArrayList<>();
    StandbyCluster sc = StandbyClusterJson.parse(JSON.readTree(
        "{\"host\":\"h\",\"port\":\"x\",\"create_replica_methods\":[\"wal_e\",\"basebackup\"]}"), warnings);
    assertThat(sc.effectivePort()).isEqualTo(5432);
    assertThat(warnings).containsExactly("standby_cluster.port=\"x\" is not a port: using 5432",
        "standby_cluster.create_replica_methods: only basebackup is supported, ignoring [wal_e]");
  }
}
