package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.dcs.ClusterSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A standby cluster (patroni-compat §10.3) on real ZooKeeper and PostgreSQL: cluster "prim" (m0, m1) and, on the same
 * ZooKeeper, cluster "stby" (s0, s1) whose {@code bootstrap.dcs.standby_cluster} names prim's primary. stby's
 * initialize winner clones prim and holds stby's key as its standby leader (streaming from prim through the
 * permanent slot {@code stby} that prim keeps for it), the other member cascades from it. Writes on prim reach both;
 * the REST health endpoints answer as Patroni's; when the standby leader's node dies the other member takes the key,
 * re-points at prim and still receives its writes, never promoting (after a switchover inside stby first); {@code pghactl promote-cluster} then makes stby
 * a writable cluster of its own, and {@code pghactl demote-cluster} a standby of prim again (pg_rewind from prim).
 */
@Tag("integration")
class StandbyClusterIT {
  private static final Duration FORMED = Duration.ofSeconds(90);
  private static final Duration TAKEOVER = Duration.ofSeconds(60);
  private static final Duration REPLICATED = Duration.ofSeconds(30);
  private static final String SLOT = "stby";

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void standbyClusterFollowsTheRemotePrimaryFailsOverIsPromotedAndDemoted() throws Exception {
    long started = System.nanoTime();
    TestCluster prim = clusters.start("prim", 2, (name, yaml) -> ((ObjectNode) yaml.path("bootstrap").path("dcs"))
        .putObject("slots").putObject(SLOT).put("type", "physical"));
    String primLeader = prim.awaitLeader(FORMED);
    prim.awaitStreamingReplicas(1, FORMED);
    System.out.printf("StandbyClusterIT: prim formed after %.1f s%n", seconds(started));
    int primPort = prim.member(primLeader).postgresPort();
    prim.createWritesTable(primLeader);
    long before = prim.writeMarker(primLeader).orElseThrow();

    TestCluster stby = clusters.alongside(prim, "stby", "s", 2, (name, yaml) ->
        ((ObjectNode) yaml.path("bootstrap").path("dcs")).putObject("standby_cluster")
            .put("host", "127.0.0.1").put("port", primPort).put("primary_slot_name", SLOT)
            .putArray("create_replica_methods").add("basebackup"));
    String standbyLeader = awaitStandbyLeader(stby, null, FORMED);
    String other = standbyLeader.equals("s0") ? "s1" : "s0";
    awaitStreaming(stby, standbyLeader, primPort, FORMED);
    awaitStreaming(stby, other, stby.member(standbyLeader).postgresPort(), FORMED);
    System.out.printf("StandbyClusterIT: standby cluster formed after %.1f s%n", seconds(started));

    // prim's writes reach both members of stby; prim's slot for stby is the one in use
    long after = prim.writeMarker(primLeader).orElseThrow();
    for (String s : List.of(standbyLeader, other)) {
      stby.await(s + " has prim's writes", REPLICATED, () -> stby.hasMarker(s, before) && stby.hasMarker(s, after));
    }
    assertThat(activeSlots(prim, primLeader)).contains(SLOT);
    assertThat(stby.sql(standbyLeader, "SELECT pg_is_in_recovery() AS r").get(0).get("r")).isEqualTo(true);

    // REST as Patroni's api.py: the standby leader is the leader and the standby leader, nobody is a primary
    assertThat(stby.patroniStatus(standbyLeader).orElseThrow().path("role").asText()).isEqualTo("standby_leader");
    assertThat(status(stby, standbyLeader, "/standby-leader")).isEqualTo(200);
    assertThat(status(stby, standbyLeader, "/standby_leader")).isEqualTo(200);
    assertThat(status(stby, standbyLeader, "/leader")).isEqualTo(200);
    assertThat(status(stby, standbyLeader, "/primary")).isEqualTo(503);
    assertThat(status(stby, standbyLeader, "/replica")).isEqualTo(503);
    assertThat(status(stby, other, "/standby-leader")).isEqualTo(503);
    assertThat(status(stby, other, "/leader")).isEqualTo(503);
    assertThat(status(stby, other, "/primary")).isEqualTo(503);
    assertThat(status(stby, other, "/replica")).isEqualTo(200);
    assertThat(status(prim, primLeader, "/standby-leader")).isEqualTo(503);
    assertThat(status(prim, primLeader, "/primary")).isEqualTo(200);
    assertThat(stby.request(standbyLeader, "GET", "/metrics", null).body())
        .contains("patroni_standby_leader{scope=\"stby\",name=\"" + standbyLeader + "\"} 1\n")
        .contains("patroni_primary{scope=\"stby\",name=\"" + standbyLeader + "\"} 0\n");
    assertThat(stby.request(standbyLeader, "GET", "/cluster", null).json().path("members").toString())
        .contains("\"role\":\"standby_leader\"");
    Cli.Result list = Cli.pghactl(stby.member(other).configFile(), Map.of(), "", "list");
    assertThat(list.exitCode()).as(list.toString()).isZero();
    assertThat(list.out()).contains("| " + standbyLeader + " ").contains("| Standby Leader |");

    // switchover inside stby: the standby leader hands the key to the other member, which follows prim; the old
    // standby leader then cascades from the new one
    long switchedAt = System.nanoTime();
    Cli.Result switched = Cli.pghactl(stby.member(other).configFile(), Map.of(), "", "switchover", "--leader",
        standbyLeader, "--candidate", other, "--force");
    assertThat(switched.exitCode()).as(switched.toString()).isZero();
    assertThat(switched.out()).contains("Successfully switched over to \"" + other + "\"");
    assertThat(awaitStandbyLeader(stby, standbyLeader, TAKEOVER)).isEqualTo(other);
    awaitStreaming(stby, other, primPort, TAKEOVER);
    awaitStreaming(stby, standbyLeader, stby.member(other).postgresPort(), TAKEOVER);
    System.out.printf("StandbyClusterIT: switchover done, both streaming after %.1f s%n", seconds(switchedAt));
    long afterSwitchover = prim.writeMarker(primLeader).orElseThrow();
    for (String s : List.of(standbyLeader, other)) {
      stby.await(s + " has prim's write after the switchover", REPLICATED, () -> stby.hasMarker(s, afterSwitchover));
    }
    String victim = other;
    String survivor = standbyLeader;

    // the standby leader's node dies: the other member takes the key as standby leader, follows prim, never promotes
    long killedAt = System.nanoTime();
    stby.killAgent(victim);
    stby.killPostmaster(victim);
    String newLeader = awaitStandbyLeader(stby, victim, TAKEOVER);
    assertThat(newLeader).isEqualTo(survivor);
    awaitStreaming(stby, survivor, primPort, TAKEOVER);
    System.out.printf("StandbyClusterIT: new standby leader streams from prim %.1f s after the kill%n",
        seconds(killedAt));
    assertThat(stby.sql(survivor, "SELECT pg_is_in_recovery() AS r").get(0).get("r")).isEqualTo(true);
    long afterFailover = prim.writeMarker(primLeader).orElseThrow();
    stby.await(survivor + " has prim's write after the failover", REPLICATED, () -> stby.hasMarker(survivor, afterFailover));
    assertThat(status(stby, survivor, "/standby-leader")).isEqualTo(200);
    assertThat(stby.tryWrite(survivor)).as("a standby leader is read-only").isFalse();

    // promote-cluster: standby_cluster goes from the config, the standby leader promotes and takes writes
    Cli.Result promoted = Cli.pghactl(stby.member(survivor).configFile(), Map.of(), "", "promote-cluster", "--force");
    assertThat(promoted.exitCode()).as(promoted.toString()).isZero();
    assertThat(promoted.out()).contains("cluster is successfully promoted");
    assertThat(stby.leader()).contains(survivor);
    assertThat(stby.awaitWritable(survivor, REPLICATED)).isNotNull();
    assertThat(status(stby, survivor, "/primary")).isEqualTo(200);
    assertThat(status(stby, survivor, "/standby-leader")).isEqualTo(503);
    Cli.Result again = Cli.pghactl(stby.member(survivor).configFile(), Map.of(), "", "promote-cluster", "--force");
    assertThat(again.exitCode()).isNotZero();
    assertThat(again.err() + again.out()).contains("Cluster is already in the required state");

    // demote-cluster: stby follows prim again; s1's writes of its own are undone by pg_rewind from prim's primary
    long demotedAt = System.nanoTime();
    Cli.Result demoted = Cli.pghactl(stby.member(survivor).configFile(), Map.of(), "", "demote-cluster", "--host",
        "127.0.0.1", "--port", String.valueOf(primPort), "--primary-slot-name", SLOT, "--force");
    assertThat(demoted.exitCode()).as(demoted.toString()).isZero();
    assertThat(demoted.out()).contains("cluster is successfully demoted");
    awaitStreaming(stby, survivor, primPort, TAKEOVER);
    System.out.printf("StandbyClusterIT: demote-cluster done, streaming from prim after %.1f s%n", seconds(demotedAt));
    long afterDemote = prim.writeMarker(primLeader).orElseThrow();
    stby.await(survivor + " has prim's write after demote-cluster", REPLICATED, () -> stby.hasMarker(survivor, afterDemote));
    assertThat(status(stby, survivor, "/standby-leader")).isEqualTo(200);
    assertThat(status(stby, survivor, "/primary")).isEqualTo(503);
    Cli.Result twice = Cli.pghactl(stby.member(survivor).configFile(), Map.of(), "", "demote-cluster", "--host",
        "127.0.0.1", "--force");
    assertThat(twice.exitCode()).isNotZero();
    assertThat(twice.err() + twice.out()).contains("Cluster is already in the required state");
    Cli.Result nothing = Cli.pghactl(stby.member(survivor).configFile(), Map.of(), "", "demote-cluster", "--force");
    assertThat(nothing.err() + nothing.out()).contains("At least --host, --port or --restore-command should be specified");
    System.out.printf("StandbyClusterIT: wall %.1f s%n", seconds(started));
  }

  /** Waits until a member other than {@code previous} holds the key and reports itself a running standby_leader. */
  private static String awaitStandbyLeader(TestCluster cluster, String previous, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<ClusterSnapshot> view = cluster.snapshot();
      Optional<ClusterSnapshot.Member> holder = view.flatMap(ClusterSnapshot::leaderMember);
      if (holder.isPresent() && !holder.get().name().equals(previous)
          && holder.get().role().equals("standby_leader") && holder.get().state().equals("running")) {
        return holder.get().name();
      }
      TestCluster.sleep(Duration.ofMillis(250));
    }
    throw new AssertionError("no running standby leader (other than " + previous + ") after " + timeout + "\n"
        + cluster.table());
  }

  private static void awaitStreaming(TestCluster cluster, String name, int port, Duration timeout) {
    cluster.await(name + " streams from port " + port, timeout, () -> cluster.streamsFrom(name, port));
  }

  private static int status(TestCluster cluster, String name, String path) {
    return cluster.request(name, "GET", path, null).status();
  }

  private static List<Object> activeSlots(TestCluster cluster, String name) throws Exception {
    return cluster.sql(name, "SELECT slot_name::text AS s FROM pg_replication_slots WHERE active").stream()
        .map(r -> r.get("s")).toList();
  }

  private static double seconds(long sinceNanos) {
    return (System.nanoTime() - sinceNanos) / 1e9;
  }
}
