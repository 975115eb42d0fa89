package io.pgha.metrics;

import static io.pgha.metrics.Fixtures.leader;
import static io.pgha.metrics.Fixtures.replica;
import static io.pgha.metrics.Fixtures.with;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.metrics.Exposition.Family;
import io.pgha.model.NodeStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PatroniMetricsTest {
  /** Written by 4.x and not by 3.0.2. */
  private static final Set<String> ADDED_AFTER_3_0_2 = Set.of("patroni_quorum_standby", "patroni_postgres_streaming",
      "patroni_postgres_in_archive_recovery", "patroni_failsafe_mode_enabled", "patroni_failsafe_member",
      "patroni_postgres_state", "patroni_failover_priority");
  /** Written by 3.0.2 and not by 4.x: none, pgha keeps 3.x's {@code patroni_master} beside {@code patroni_primary}. */
  private static final Set<String> REMOVED_IN_4 = Set.of();
  /** HELP texts 4.x reworded (3.0.2 said "sync standby replica", and copied cluster_unlocked's text for failsafe). */
  private static final Map<String, String> HELP_4X = Map.of(
      "patroni_sync_standby", "Value is 1 if this node is a sync standby, 0 otherwise.",
      "patroni_failsafe_mode_is_active", "Value is 1 if failsafe mode is active, 0 if inactive.");
  /** Types 4.x changed: the timeline is a gauge since 4.1.4. */
  private static final Map<String, String> TYPE_4X = Map.of("patroni_postgres_timeline", "gauge");

  @Test
  void leaderMatchesTheReference() {
    compareWithReference(leader(), "leader");
  }

  @Test
  void replicaMatchesTheReference() {
    compareWithReference(replica(), "replica");
  }

  private static void compareWithReference(NodeStatus status, String role) {
    Map<String, Family> reference = Exposition.parse(Fixtures.reference(role));
    Map<String, Family> ours = Exposition.parse(render(status));

    Set<String> expectedNames = new TreeSet<>(reference.keySet());
    expectedNames.removeAll(REMOVED_IN_4);
    expectedNames.addAll(ADDED_AFTER_3_0_2);
    assertThat(new TreeSet<>(ours.keySet())).isEqualTo(expectedNames);

    List<String> commonInReferenceOrder = new ArrayList<>(reference.keySet());
    commonInReferenceOrder.removeAll(REMOVED_IN_4);
    List<String> commonInOurOrder = new ArrayList<>(ours.keySet());
    commonInOurOrder.retainAll(commonInReferenceOrder);
    assertThat(commonInOurOrder).as("Patroni's order").isEqualTo(commonInReferenceOrder);

    for (String name : commonInReferenceOrder) {
      Family ref = reference.get(name);
      Family mine = ours.get(name);
      assertThat(mine.help()).as(name + " HELP").isEqualTo(HELP_4X.getOrDefault(name, ref.help()));
      assertThat(mine.type()).as(name + " TYPE").isEqualTo(TYPE_4X.getOrDefault(name, ref.type()));
      assertThat(mine.samples()).as(name).hasSize(1);
      assertThat(mine.samples().get(0).value()).as(name + " value, as Patroni prints it")
          .isEqualTo(ref.samples().get(0).value());
      assertThat(ref.samples().get(0).labels()).as("3.0.2's labels").isEqualTo(Map.of("scope", "batman"));
      assertThat(mine.samples().get(0).labels()).as(name + " labels")
          .isEqualTo(Map.of("scope", "batman", "name", status.name()));
    }
  }

  @Test
  void addedMetricsOfTheLeader() {
    Map<String, String> values = values(render(leader()));

    assertThat(values).containsEntry("patroni_quorum_standby", "0")
        .containsEntry("patroni_postgres_streaming", "0")
        .containsEntry("patroni_postgres_in_archive_recovery", "0")
        .containsEntry("patroni_failsafe_mode_enabled", "0")
        .containsEntry("patroni_failsafe_member", "0")
        .containsEntry("patroni_postgres_state", "5")
        .containsEntry("patroni_failover_priority", "1");
  }

  /** §10.2: enabled follows {@code failsafe_mode}; member says whether the failsafe key as last read lists this node. */
  @Test
  void failsafeEnabledAndMemberFollowTheConfigAndTheKey() {
    Map<String, String> listed = values(render(with(leader(), "failsafeEnabled", true, "failsafeTopology",
        Map.of("postgresql2", "http://127.0.0.1:8008/patroni", "postgresql0", "http://127.0.0.1:8009/patroni"))));
    Map<String, String> notListed = values(render(with(leader(), "failsafeEnabled", true, "failsafeTopology",
        Map.of("postgresql0", "http://127.0.0.1:8009/patroni"))));

    assertThat(listed).containsEntry("patroni_failsafe_mode_enabled", "1").containsEntry("patroni_failsafe_member", "1");
    assertThat(notListed).containsEntry("patroni_failsafe_mode_enabled", "1")
        .containsEntry("patroni_failsafe_member", "0");
  }

  @Test
  void everySampleHasScopeAndNameLabelsAndEveryFamilyHelpAndType() {
    String text = render(replica());
    for (Family f : Exposition.parse(text).values()) {
      assertThat(f.help()).as(f.name()).isNotBlank();
      assertThat(f.type()).as(f.name()).isIn("gauge", "counter");
      assertThat(f.samples()).as(f.name()).singleElement()
          .satisfies(s -> assertThat(s.labels()).containsExactly(Map.entry("scope", "batman"),
              Map.entry("name", "postgresql0")));
    }
    assertThat(text).endsWith("\n");
  }

  @Test
  void postgresStateHasTheValuesCommentBetweenHelpAndType() {
    String text = render(leader());

    assertThat(text).contains("# HELP patroni_postgres_state Numeric representation of Postgres state.\n"
        + "# Values: 0=initdb, 1=initdb_failed, 2=custom_bootstrap, 3=custom_bootstrap_failed, 4=creating_replica,"
        + " 5=running, 6=starting, 7=bootstrap_starting, 8=start_failed, 9=restarting, 10=restart_failed,"
        + " 11=stopping, 12=stopped, 13=stop_failed, 14=crashed\n"
        + "# TYPE patroni_postgres_state gauge\n"
        + "patroni_postgres_state{scope=\"batman\",name=\"postgresql2\"} 5\n");
  }

  @ParameterizedTest
  @CsvSource({
      "initializing new cluster, 0", "initdb failed, 1", "running custom bootstrap script, 2",
      "custom bootstrap failed, 3", "creating replica, 4", "running, 5", "starting, 6",
      "starting after custom bootstrap, 7", "start failed, 8", "restarting, 9", "restart failed, 10",
      "stopping, 11", "stopped, 12", "stop failed, 13", "crashed, 14", "unknown, -1", "something else, -1"})
  void stateNumbers(String state, int number) {
    NodeStatus s = with(leader(), "state", state, "pgQueryable", !"running".equals(state) || number == 5);

    assertThat(values(render(s))).containsEntry("patroni_postgres_state", Integer.toString(number))
        .containsEntry("patroni_postgres_running", number == 5 ? "1" : "0");
  }

  @Test
  void versionIsZeroPaddedAsPatroniPrintsIt() {
    String value = values(render(with(leader(), "version", "4.0.0"))).get("patroni_version");

    assertThat(value).isEqualTo("040000");
    assertThat(Double.parseDouble(value)).isEqualTo(40000.0);
    assertThat(PatroniMetrics.paddedVersion("4.1.10")).isEqualTo("040110");
    assertThat(PatroniMetrics.paddedVersion("3.0.2")).isEqualTo("030002");
    assertThat(PatroniMetrics.paddedVersion(null)).isEqualTo("0");
  }

  /** The status query failed while postgres should run: {@code /patroni} says unknown and has no xlog. */
  @Test
  void postgresNotAnswering() {
    Map<String, String> values = values(render(with(leader(), "pgQueryable", false)));

    assertThat(values).containsEntry("patroni_postgres_running", "0")
        .containsEntry("patroni_postgres_state", "-1")
        .containsEntry("patroni_postmaster_start_time", "0")
        .containsEntry("patroni_postgres_server_version", "0")
        .containsEntry("patroni_xlog_location", "0")
        .containsEntry("patroni_postgres_timeline", "0")
        .containsEntry("patroni_primary", "1") // the role flags follow the cached role
        .containsEntry("patroni_master", "1")
        .containsEntry("patroni_dcs_last_seen", "1795482800")
        .doesNotContainKeys("patroni_postgres_streaming", "patroni_postgres_in_archive_recovery");
  }

  @Test
  void stoppedReplica() {
    NodeStatus s = with(replica(), "state", "stopped", "pgQueryable", false, "clusterUnlocked", true,
        "paused", true, "dcsLastSeenEpochSeconds", null);
    Map<String, String> values = values(render(s));

    assertThat(values).containsEntry("patroni_replica", "1")
        .containsEntry("patroni_postgres_state", "12")
        .containsEntry("patroni_xlog_received_location", "0")
        .containsEntry("patroni_xlog_replayed_location", "0")
        .containsEntry("patroni_xlog_replayed_timestamp", "0")
        .containsEntry("patroni_cluster_unlocked", "1")
        .containsEntry("patroni_is_paused", "1")
        .containsEntry("patroni_dcs_last_seen", "0");
  }

  @Test
  void streamingPausedSyncReplica() {
    NodeStatus s = with(replica(), "replicationState", "streaming", "replayPaused", true, "syncStandby", true,
        "receivedLocation", 100L, "replayedLocation", 90L);
    Map<String, String> values = values(render(s));

    assertThat(values).containsEntry("patroni_postgres_streaming", "1")
        .containsEntry("patroni_postgres_in_archive_recovery", "0")
        .containsEntry("patroni_xlog_paused", "1")
        .containsEntry("patroni_sync_standby", "1")
        .containsEntry("patroni_xlog_received_location", "100")
        .containsEntry("patroni_xlog_replayed_location", "90")
        .containsEntry("patroni_xlog_location", "0");
  }

  @Test
  void quorumStandby() {
    Map<String, String> values = values(render(with(replica(), "quorumStandby", true)));
    assertThat(values).containsEntry("patroni_quorum_standby", "1").containsEntry("patroni_sync_standby", "0");
    assertThat(values(render(with(replica(), "quorumStandby", true, "pgQueryable", false))))
        .containsEntry("patroni_quorum_standby", "0");
  }

  @Test
  void standbyLeaderAndArchiveRecovery() {
    NodeStatus s = with(replica(), "role", "standby_leader", "replicationState", "in archive recovery");
    Map<String, String> values = values(render(s));

    assertThat(values).containsEntry("patroni_standby_leader", "1")
        .containsEntry("patroni_replica", "0")
        .containsEntry("patroni_primary", "0")
        .containsEntry("patroni_master", "0")
        .containsEntry("patroni_postgres_in_archive_recovery", "1")
        .containsEntry("patroni_postgres_streaming", "0");
  }

  @Test
  void oldServerHasNoReplicationStateMetrics() {
    assertThat(values(render(with(replica(), "serverVersion", 90500))))
        .containsEntry("patroni_postgres_server_version", "90500")
        .doesNotContainKeys("patroni_postgres_streaming", "patroni_postgres_in_archive_recovery");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "2026-11-24 01:12:17.073690+00:00 | 1795482737.07369",
      "2026-11-24 01:12:17.07369+00     | 1795482737.07369",
      "2026-11-24 06:42:17.07369+05:30  | 1795482737.07369",
      "2026-11-23 22:12:17.5-03         | 1795482737.5",
      "2026-11-24T01:12:17Z             | 1795482737.0",
      "2026-11-24 01:12:17+00           | 1795482737.0",
      "2026-11-24 01:12:17.000001+00    | 1795482737.000001",
      "1970-01-01 00:00:00+00           | 0.0",
      "infinity                         | 0",
      "not a time                       | 0"})
  void timestampsAsPythonPrintsTheirEpochSeconds(String timestamp, String expected) {
    assertThat(PatroniMetrics.epochSeconds(timestamp)).isEqualTo(expected);
  }

  @Test
  void failoverPriorityFollowsTheTags() {
    assertThat(PatroniMetrics.failoverPriority(null)).isEqualTo(1);
    assertThat(PatroniMetrics.failoverPriority(Fixtures.tags("{}"))).isEqualTo(1);
    assertThat(PatroniMetrics.failoverPriority(Fixtures.tags("{\"failover_priority\":3}"))).isEqualTo(3);
    assertThat(PatroniMetrics.failoverPriority(Fixtures.tags("{\"failover_priority\":\"2\"}"))).isEqualTo(2);
    assertThat(PatroniMetrics.failoverPriority(Fixtures.tags("{\"nofailover\":true,\"failover_priority\":3}")))
        .isEqualTo(0);
    assertThat(values(render(with(leader(), "tags", Fixtures.tags("{\"nofailover\":true}")))))
        .containsEntry("patroni_failover_priority", "0");
  }

  @Test
  void labelValuesAreEscaped() {
    String text = render(with(leader(), "scope", "a\"b\\c", "name", "x\ny"));

    assertThat(text).contains("patroni_primary{scope=\"a\\\"b\\\\c\",name=\"x\\ny\"} 1\n");
    assertThat(Exposition.parse(text)).hasSize(Exposition.parse(render(leader())).size());
  }

  static String render(NodeStatus s) {
    StringBuilder out = new StringBuilder();
    PatroniMetrics.render(s, out);
    return out.toString();
  }

  /** The single sample of each family, by family name. */
  static Map<String, String> values(String text) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Family f : Exposition.parse(text).values()) {
      assertThat(f.samples()).as(f.name()).hasSize(1);
      values.put(f.name(), f.samples().get(0).value());
    }
    return values;
  }
}
