package io.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.Credentials;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfigJson;
import io.pgha.config.PostgresqlConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** patroni-compat §8.5, §8.6: what goes into postgresql.conf. */
class PgParametersTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SOCKETS = "/var/run/postgresql";

  static ObjectNode json(String text) {
    try {
      return (ObjectNode) JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(text, e);
    }
  }

  static PostgresqlConfig local(String parametersJson) {
    return local("10.0.0.11", 5433, parametersJson);
  }

  static PostgresqlConfig local(String listen, int port, String parametersJson) {
    return new PostgresqlConfig(listen, port, "10.0.0.11:" + port, null, Path.of("/data/pg"), Path.of("/data/pg"),
        Path.of("/usr/lib/postgresql/15/bin"), "postgres", Path.of("/home/postgres/pgpass"),
        new Credentials("postgres", "secret"), new Credentials("replicator", "rep-pass"), null,
        json(parametersJson), null, Map.of(), List.of(), null, false, false, 60);
  }

  static Map<String, String> effective(String dynamicJson, String localJson) {
    return PgParameters.effective(local(localJson), DynamicConfigJson.parse(json(dynamicJson)), "batman", SOCKETS);
  }

  @Test
  void protectedDefaultsAndMemberSettings() {
    Map<String, String> params = effective("{}", "{}");

    assertThat(params).containsAllEntriesOf(Map.ofEntries(
        Map.entry("wal_level", "replica"),
        Map.entry("hot_standby", "on"),
        Map.entry("max_connections", "100"),
        Map.entry("max_wal_senders", "10"),
        Map.entry("wal_keep_size", "128MB"),
        Map.entry("max_prepared_transactions", "0"),
        Map.entry("max_locks_per_transaction", "64"),
        Map.entry("track_commit_timestamp", "off"),
        Map.entry("max_replication_slots", "10"),
        Map.entry("max_worker_processes", "8"),
        Map.entry("wal_log_hints", "on")));
    assertThat(params).containsEntry("cluster_name", "batman")
        .containsEntry("listen_addresses", "10.0.0.11")
        .containsEntry("port", "5433")
        .containsEntry("unix_socket_directories", SOCKETS)
        .doesNotContainKey("wal_keep_segments");
    assertThat(params).hasSize(PgParameters.PROTECTED_DEFAULTS.size() + 4);
  }

  @Test
  void dynamicOverridesDefaults() {
    Map<String, String> params = effective(
        "{\"postgresql\":{\"parameters\":{\"max_connections\":200,\"wal_log_hints\":false,"
            + "\"work_mem\":\"4MB\",\"wal_level\":\"logical\"}}}", "{}");

    assertThat(params).containsEntry("max_connections", "200")
        .containsEntry("wal_log_hints", "off")
        .containsEntry("work_mem", "4MB")
        .containsEntry("wal_level", "logical");
  }

  @Test
  void localOverridesDynamic() {
    Map<String, String> params = effective(
        "{\"postgresql\":{\"parameters\":{\"work_mem\":\"4MB\",\"shared_buffers\":\"1GB\"}}}",
        "{\"work_mem\":\"8MB\",\"log_min_duration_statement\":250,\"jit\":true}");

    assertThat(params).containsEntry("work_mem", "8MB")
        .containsEntry("shared_buffers", "1GB")
        .containsEntry("log_min_duration_statement", "250")
        .containsEntry("jit", "on");
  }

  @ParameterizedTest(name = "wal_keep_segments {0} -> wal_keep_size {1}")
  @CsvSource(delimiter = '|', value = {
      "8          | 128MB",
      "\"10\"     | 160MB",
      "\" 64 \"   | 1024MB",
      "\"lots\"   | 128MB",
  })
  void walKeepSegmentsBecomesWalKeepSize(String segmentsJson, String size) {
    Map<String, String> params = effective(
        "{\"postgresql\":{\"parameters\":{\"wal_keep_segments\":" + segmentsJson + "}}}", "{}");

    assertThat(params).containsEntry("wal_keep_size", size).doesNotContainKey("wal_keep_segments");
  }

  @Test
  void explicitWalKeepSizeWinsOverWalKeepSegments() {
    assertThat(effective("{\"postgresql\":{\"parameters\":{\"wal_keep_size\":\"1GB\",\"wal_keep_segments\":8}}}",
        "{}")).containsEntry("wal_keep_size", "1GB").doesNotContainKey("wal_keep_segments");
  }

  @Test
  void walKeepSegmentsFromLocalParametersToo() {
    assertThat(effective("{}", "{\"wal_keep_segments\":4}")).containsEntry("wal_keep_size", "64MB")
        .doesNotContainKey("wal_keep_segments");
  }

  @Test
  void hotStandbyWalLevelIsReplica() {
    assertThat(effective("{\"postgresql\":{\"parameters\":{\"wal_level\":\"hot_standby\"}}}", "{}"))
        .containsEntry("wal_level", "replica");
  }

  @Test
  void hotStandbyIsAlwaysOn() {
    assertThat(effective("{\"postgresql\":{\"parameters\":{\"hot_standby\":\"off\"}}}", "{}"))
        .containsEntry("hot_standby", "on");
    assertThat(effective("{\"postgresql\":{\"parameters\":{\"hot_standby\":false}}}", "{\"hot_standby\":false}"))
        .containsEntry("hot_standby", "on");
  }

  @Test
  void clusterNamePortAndListenAddressesAreForced() {
    Map<String, String> params = effective(
        "{\"postgresql\":{\"parameters\":{\"cluster_name\":\"other\",\"port\":6000,\"listen_addresses\":\"*\"}}}",
        "{\"cluster_name\":\"mine\",\"port\":7000,\"listen_addresses\":\"0.0.0.0\"}");

    assertThat(params).containsEntry("cluster_name", "batman")
        .containsEntry("port", "5433")
        .containsEntry("listen_addresses", "10.0.0.11");
  }

  @Test
  void listenAddressesKeepsSeveralHosts() {
    Map<String, String> params = PgParameters.effective(local("10.0.0.11,127.0.0.1", 5432, "{}"),
        DynamicConfig.defaults(), "batman", SOCKETS);
    assertThat(params).containsEntry("listen_addresses", "10.0.0.11,127.0.0.1").containsEntry("port", "5432");
  }

  @Test
  void unixSocketDirectoriesMayBeSetLocally() {
    assertThat(effective("{}", "{\"unix_socket_directories\":\"/tmp\"}"))
        .containsEntry("unix_socket_directories", "/tmp");
  }

  @Test
  void nullRemovesAParameter() {
    Map<String, String> params = effective("{\"postgresql\":{\"parameters\":{\"work_mem\":\"4MB\"}}}",
        "{\"work_mem\":null}");
    assertThat(params).doesNotContainKey("work_mem");
  }

  @Test
  void parametersComeSortedByName() {
    Map<String, String> params = effective("{\"postgresql\":{\"parameters\":{\"zz_custom.x\":1,\"aa\":2}}}",
        "{\"mm\":3}");
    List<String> keys = new ArrayList<>(params.keySet());
    assertThat(keys).isSorted().startsWith("aa").endsWith("zz_custom.x");
  }

  @Test
  void inputsAreNotModified() {
    PostgresqlConfig pg = local("{\"wal_keep_segments\":4}");
    DynamicConfig dynamic = DynamicConfigJson.parse(json("{\"postgresql\":{\"parameters\":{\"wal_level\":\"hot_standby\"}}}"));

    PgParameters.effective(pg, dynamic, "batman", SOCKETS);

    assertThat(pg.parameters().has("wal_keep_segments")).isTrue();
    assertThat(dynamic.postgresqlParameters().get("wal_level")).isEqualTo("hot_standby");
  }

  @ParameterizedTest
  @CsvSource({
      "max_connections, 10, 100", "max_connections, lots, 100", "max_connections, 200, 200",
      "max_wal_senders, 2, 10", "max_locks_per_transaction, 31, 64", "max_replication_slots, 3, 10",
      "max_worker_processes, 1, 8", "max_prepared_transactions, -1, 0", "wal_level, minimal, replica",
      "wal_level, logical, logical", "wal_keep_size, 8MB, 128MB", "wal_keep_size, 1GB, 1GB",
      "track_commit_timestamp, maybe, off", "wal_log_hints, off, off"})
  void invalidProtectedValuesFallBackToTheirDefaults(String name, String value, String expected) {
    assertThat(effective("{\"postgresql\": {\"parameters\": {\"" + name + "\": \"" + value + "\"}}}", "{}"))
        .containsEntry(name, expected);
  }
}
