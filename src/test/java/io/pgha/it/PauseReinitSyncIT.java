package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 15, part 4, on a real cluster in pause: a reinitialized replica is cloned and started again (Patroni starts
 * it; pgha used to leave it stopped), and the primary still manages the synchronous standby set: a synchronous
 * standby whose WAL receiver stops (lagging past {@code maximum_lag_on_syncnode}) is replaced by the healthy one, so
 * is one whose replay is paused when commits wait for replay ({@code remote_apply}), and one that goes away.
 */
@Tag("integration")
class PauseReinitSyncIT {

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void reinitializeStartsPostgresAndTheSyncSetIsManagedInPause() throws Exception {
    TestCluster cluster = clusters.start("pausesync", 3);
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    cluster.createWritesTable(leader);
    TestCluster.Answer patched = cluster.request(leader, "PATCH", "/config",
        "{\"synchronous_mode\": true, \"maximum_lag_on_syncnode\": 1048576, \"pause\": true}");
    assertThat(patched.status()).as(patched.body()).isEqualTo(200);
    cluster.await("every member paused", Duration.ofSeconds(15), () -> cluster.memberNames().stream()
        .allMatch(n -> cluster.memberKey(n).map(k -> k.path("pause").asBoolean(false)).orElse(false)));
    String sync = awaitSync(cluster, leader, null, Duration.ofSeconds(30));
    String async = cluster.memberNames().stream().filter(n -> !n.equals(leader) && !n.equals(sync))
        .findFirst().orElseThrow();

    // reinitialize in pause: cloned and started again, streaming from the leader
    long before = cluster.postmasterPid(async).orElseThrow();
    TestCluster.Answer reinit = cluster.request(async, "POST", "/reinitialize", "{\"force\": true}");
    assertThat(reinit.status()).as(reinit.body()).isEqualTo(200);
    cluster.await(async + " restarted by the reinitialize", Duration.ofSeconds(30),
        () -> cluster.postmasterPid(async).stream().anyMatch(pid -> pid != before));
    cluster.awaitStreamingFrom(async, leader, Duration.ofSeconds(60));
    assertThat(cluster.memberKey(async).orElseThrow().path("state").asText()).isEqualTo("running");
    assertThat(cluster.memberKey(async).orElseThrow().path("pause").asBoolean()).as("still paused").isTrue();

    // the synchronous standby falls behind: its WAL receiver is stopped while the primary writes 5 MB
    long walReceiver = ((Number) cluster.sql(sync, "SELECT pid FROM pg_stat_wal_receiver").get(0).get("pid"))
        .longValue();
    signal("STOP", walReceiver);
    try {
      cluster.sql(leader, "DO $$BEGIN PERFORM set_config('synchronous_commit', 'local', true);"
          + " CREATE TABLE pgha_lag AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 5000) g; END$$");
      long lagStarted = System.nanoTime();
      awaitSync(cluster, leader, async, Duration.ofSeconds(15));
      System.out.println("PauseReinitSyncIT: lagging " + sync + " replaced by " + async + " in "
          + (System.nanoTime() - lagStarted) / 1_000_000 + " ms while paused");
    } finally {
      signal("CONT", walReceiver);
    }

    // with synchronous_commit = remote_apply, a standby whose replay is paused lags (commits wait for replay)
    cluster.awaitStreamingFrom(sync, leader, Duration.ofSeconds(30));
    TestCluster.Answer applied = cluster.request(leader, "PATCH", "/config",
        "{\"postgresql\": {\"parameters\": {\"synchronous_commit\": \"remote_apply\"}}}");
    assertThat(applied.status()).as(applied.body()).isEqualTo(200);
    cluster.await("synchronous_commit = remote_apply on the leader", Duration.ofSeconds(15), () -> {
      try {
        return "remote_apply".equals(cluster.sql(leader, "SHOW synchronous_commit").get(0).get("synchronous_commit"));
      } catch (Exception e) {
        return false;
      }
    });
    cluster.sql(async, "SELECT pg_wal_replay_pause()");
    try {
      cluster.sql(leader, "DO $$BEGIN PERFORM set_config('synchronous_commit', 'local', true);"
          + " CREATE TABLE pgha_lag2 AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 5000) g; END$$");
      long lagStarted = System.nanoTime();
      awaitSync(cluster, leader, sync, Duration.ofSeconds(15));
      System.out.println("PauseReinitSyncIT: " + async + " (replay paused, remote_apply) replaced by " + sync + " in "
          + (System.nanoTime() - lagStarted) / 1_000_000 + " ms while paused");
    } finally {
      cluster.sql(async, "SELECT pg_wal_replay_resume()");
    }

    // the synchronous standby goes away: the other one, caught up again, takes its place
    cluster.awaitStreamingFrom(async, leader, Duration.ofSeconds(30));
    cluster.killAgent(sync);
    cluster.killPostmaster(sync);
    awaitSync(cluster, leader, async, Duration.ofSeconds(30));
    assertThat(cluster.memberKey(leader).orElseThrow().path("pause").asBoolean()).as("still paused").isTrue();
  }

  /** Waits until the leader's only synchronous standby is {@code expected} (any one when null); returns it. */
  private static String awaitSync(TestCluster cluster, String leader, String expected, Duration timeout) {
    String[] seen = {null};
    cluster.await("synchronous standby " + (expected == null ? "chosen" : expected), timeout, () -> {
      try {
        List<Map<String, Object>> rows = cluster.sql(leader,
            "SELECT application_name AS name FROM pg_stat_replication WHERE sync_state = 'sync'");
        String ssn = (String) cluster.sql(leader, "SHOW synchronous_standby_names").get(0)
            .get("synchronous_standby_names");
        List<String> names = rows.stream().map(r -> (String) r.get("name")).collect(Collectors.toList());
        if (names.size() != 1) return false;
        seen[0] = names.get(0);
        return (expected == null || expected.equals(seen[0])) && ssn.contains(seen[0]);
      } catch (Exception e) {
        return false;
      }
    });
    return seen[0];
  }

  private static void signal(String signal, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }
}
