package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.LogFiles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 9, part 3: a replica that received WAL from the old primary beyond the point where the new primary's timeline
 * forked must be noticed, reported as not streaming, rewound and streaming from the new primary without an operator;
 * and the killed old primary, which has that WAL too, must rejoin by itself.
 *
 * <p>Divergence is made deterministic: with leader A and replicas B and C (C tagged {@code nofailover}, so that B,
 * the one left behind, is the only candidate), B's walreceiver is frozen (SIGSTOP), rows are written on A until C has
 * them, then A's machine dies (agent and postmaster SIGKILLed) and B's frozen walreceiver is SIGKILLed (a frozen one
 * would, on SIGCONT, still read what A's walsender had left in its socket). B then wins the race after ttl and forks
 * timeline 2 at a point before C's WAL position.
 */
@Tag("integration")
class DivergedReplicaIT {
  /** The brief's target: streaming from the new primary within 30 s of the fork. */
  private static final Duration REPAIR_BUDGET = Duration.ofSeconds(30);

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  /** Leader A (killed), B (the new leader, which lacks the last rows), C (diverged: it has them). */
  private record Diverged(TestCluster cluster, String a, String b, String c, List<Long> lostWithA, long forkedAt) {}

  /**
   * Makes C diverge from B's new timeline as described in the class comment; returns once B accepts writes (the fork),
   * C still running on the old timeline with rows B lacks.
   */
  private Diverged diverge(String scope, java.util.function.Consumer<ObjectNode> configureC) throws Exception {
    TestCluster cluster = clusters.start(scope, 3, (name, yaml) -> {
      if (!name.equals("m2")) return;
      yaml.putObject("tags").put("nofailover", true); // the initial leader is m0 or m1; B is the only candidate
      configureC.accept((ObjectNode) yaml.path("postgresql"));
    });
    String a = cluster.awaitLeader(Duration.ofSeconds(90));
    String c = "m2";
    String b = a.equals("m0") ? "m1" : "m0";
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    cluster.createWritesTable(a);
    long before = cluster.writeMarker(a).orElseThrow();
    cluster.await("the first row on both replicas", Duration.ofSeconds(20),
        () -> cluster.hasMarker(b, before) && cluster.hasMarker(c, before));

    // B stops receiving; C goes on
    long walreceiver = ((Number) cluster.sql(b, "SELECT pid FROM pg_stat_wal_receiver").get(0).get("pid")).longValue();
    LocalCluster.signal(walreceiver, "STOP");
    List<Long> lostWithA = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      lostWithA.add(cluster.writeMarker(a).orElseThrow());
    }
    long last = lostWithA.get(lostWithA.size() - 1);
    cluster.await(c + " has the rows " + b + " lacks", Duration.ofSeconds(20), () -> cluster.hasMarker(c, last));
    assertThat(cluster.hasMarker(b, lostWithA.get(0))).as(b + " must not have received them").isFalse();

    cluster.killAgent(a);
    cluster.killPostmaster(a);
    LocalCluster.signal(walreceiver, "KILL");

    String newLeader = cluster.awaitLeaderOtherThan(a, Duration.ofSeconds(60));
    assertThat(newLeader).isEqualTo(b);
    cluster.awaitWritable(b, Duration.ofSeconds(30));
    long forkedAt = System.nanoTime();
    assertThat(cluster.hasMarker(b, last)).as("the new primary lacks what C received").isFalse();
    return new Diverged(cluster, a, b, c, lostWithA, forkedAt);
  }

  @Test
  void divergedReplicaIsRewoundAndOldPrimaryRejoins() throws Exception {
    Diverged d = diverge("diverged", pg -> { });
    TestCluster cluster = d.cluster();
    String a = d.a();
    String b = d.b();
    String c = d.c();
    List<Long> lostWithA = d.lostWithA();
    awaitRepaired(d, "pg_rewind");

    // the old primary, killed with WAL the new primary lacks, rejoins by itself
    cluster.restartAgent(a);
    cluster.awaitStreamingFrom(a, b, Duration.ofSeconds(90));
    long marker2 = cluster.writeMarker(b).orElseThrow();
    cluster.await(a + " has " + b + "'s rows", Duration.ofSeconds(10), () -> cluster.hasMarker(a, marker2));
    assertThat(cluster.missingMarkers(a, lostWithA)).as("the old primary's lost rows are gone from " + a)
        .containsExactlyElementsOf(lostWithA);
    assertThat(cluster.leader()).contains(b);
    assertThat(LogFiles.tail(cluster.member(a).logFile(), 400)).contains("reason=REWIND");
  }

  /** Patroni's remove_data_directory_on_diverged_timelines without use_pg_rewind: cloned again from the leader. */
  @Test
  void withoutRewindTheFlagReclones() throws Exception {
    Diverged d = diverge("divreclone", pg -> pg.put("use_pg_rewind", false)
        .put("remove_data_directory_on_diverged_timelines", true));
    awaitRepaired(d, "a new clone");
    String log = LogFiles.tail(d.cluster().member(d.c()).logFile(), 400);
    assertThat(log).contains("reason=DIVERGED_REINIT").contains("reason=CLONE_FROM_LEADER").doesNotContain("pg_rewind:");
  }

  /**
   * Neither use_pg_rewind nor a remove_data_directory_* flag: as in Patroni, the replica follows and postgres rejects
   * the stream; pgha says so once, naming the keys, and never reports it streaming or healthy for reads.
   */
  @Test
  void withNeitherItSaysWhichKeyToSet() throws Exception {
    Diverged d = diverge("divstuck", pg -> pg.put("use_pg_rewind", false));
    TestCluster cluster = d.cluster();
    String c = d.c();
    cluster.await(c + " logs why it cannot follow", Duration.ofSeconds(20),
        () -> LogFiles.tail(cluster.member(c).logFile(), 400).contains("reason=DIVERGED_CANNOT_FOLLOW"));
    for (int i = 0; i < 10; i++) {
      JsonNode patroni = cluster.patroniStatus(c).orElseThrow();
      assertThat(patroni.path("state").asText()).isEqualTo("running");
      assertThat(patroni.has("replication_state")).as(patroni.toString()).isFalse();
      assertThat(cluster.memberKey(c).orElseThrow().has("replication_state")).isFalse();
      assertThat(cluster.request(c, "GET", "/replica", null).status()).isEqualTo(503);
      assertThat(clusterState(cluster, c)).isEqualTo("running");
      assertThat(cluster.streamsFrom(c, cluster.member(d.b()).postgresPort())).isFalse();
      Thread.sleep(500);
    }
    String log = LogFiles.tail(cluster.member(c).logFile(), 400);
    assertThat(log.lines().filter(l -> l.contains("reason=DIVERGED_CANNOT_FOLLOW")).toList()).as("logged once")
        .hasSize(1).allMatch(l -> l.contains(" ERROR ") && l.contains("use_pg_rewind")
            && l.contains("remove_data_directory_on_diverged_timelines"));
  }

  /**
   * C must stream from B within {@link #REPAIR_BUDGET} of the fork; until it does, nothing may say it streams, and
   * at some point it must say it does not; then it has B's history and every report agrees.
   */
  private void awaitRepaired(Diverged d, String how) throws Exception {
    TestCluster cluster = d.cluster();
    String b = d.b();
    String c = d.c();
    List<Long> lostWithA = d.lostWithA();
    long forkedAt = d.forkedAt();
    // until C streams from B, nothing may say it does; at some point it must say it does not. While diverged, C's
    // walreceiver does stream from B for a moment every 5 s (the old timeline's WAL up to the fork, then postgres
    // rejects the new timeline), so "repaired" means streaming on B's new timeline, and a report is a lie only when
    // postgres has not streamed at all for longer than the agent's loop (reports are as fresh as its last look).
    int bPort = cluster.member(b).postgresPort();
    long staleOk = Duration.ofSeconds(TestCluster.TIMING.loopWaitSeconds() + 1).toNanos();
    boolean sawNotStreaming = false;
    List<String> lies = new ArrayList<>();
    long deadline = forkedAt + REPAIR_BUDGET.toNanos();
    long pgNotStreamingSince = 0;
    boolean streaming = false;
    while (System.nanoTime() < deadline) {
      boolean before1 = cluster.streamsFrom(c, bPort);
      Optional<JsonNode> patroni = cluster.patroniStatus(c);
      Optional<JsonNode> key = cluster.memberKey(c);
      String row = tableRow(cluster.table(), c);
      String clusterState = clusterState(cluster, c);
      int replicaCode = cluster.request(c, "GET", "/replica", null).status();
      boolean after1 = cluster.streamsFrom(c, bPort);
      if (after1 && streamsOnNewTimeline(cluster, c)) {
        streaming = true;
        break;
      }
      long now = System.nanoTime();
      if (before1 || after1) {
        pgNotStreamingSince = 0;
        continue;
      }
      if (pgNotStreamingSince == 0) pgNotStreamingSince = now;
      boolean patroniSays = patroni.map(p -> "streaming".equals(p.path("replication_state").asText())).orElse(false);
      boolean keySays = key.map(k -> "streaming".equals(k.path("replication_state").asText())
          || "streaming".equals(k.path("state").asText())).orElse(false);
      boolean listSays = row.contains("streaming") || "streaming".equals(clusterState);
      if ((patroniSays || keySays || listSays) && now - pgNotStreamingSince > staleOk) {
        lies.add("/patroni " + patroni.map(JsonNode::toString).orElse("-") + "; key "
            + key.map(JsonNode::toString).orElse("-") + "; list " + row + "; /cluster " + clusterState);
      } else if (!patroniSays && !keySays && !listSays && replicaCode == 503) {
        sawNotStreaming = true;
      }
      Thread.sleep(100);
    }
    Duration repaired = Duration.ofNanos(System.nanoTime() - forkedAt);
    System.out.println("DivergedReplicaIT: " + c + " streams from " + b + " " + repaired.toMillis()
        + " ms after " + b + " accepted writes (" + how + ")");
    assertThat(streaming).as(c + " streams from " + b + " within " + REPAIR_BUDGET + "\n" + cluster.table()
        + cluster.logTails(40)).isTrue();
    assertThat(lies).as("reports of streaming while " + c + " did not stream").isEmpty();
    assertThat(sawNotStreaming).as(c + " reported itself not streaming (and /replica 503) before the repair").isTrue();

    // it follows B's history now: the rows only A and C had are gone, B's new rows arrive
    long marker = cluster.writeMarker(b).orElseThrow();
    cluster.await(c + " has " + b + "'s new row", Duration.ofSeconds(10), () -> cluster.hasMarker(c, marker));
    assertThat(cluster.missingMarkers(c, lostWithA)).as("the old primary's lost rows are gone from " + c)
        .containsExactlyElementsOf(lostWithA);
    // and every report agrees with postgres
    int timeline = cluster.patroniStatus(b).orElseThrow().path("timeline").asInt();
    assertThat(timeline).isGreaterThan(1);
    cluster.await("/patroni, member key and pghactl list agree on " + c, Duration.ofSeconds(10), () -> {
      JsonNode p = cluster.patroniStatus(c).orElse(null);
      JsonNode k = cluster.memberKey(c).orElse(null);
      String row = tableRow(cluster.table(), c);
      return p != null && k != null && "streaming".equals(p.path("replication_state").asText())
          && p.path("timeline").asInt() == timeline && "streaming".equals(k.path("replication_state").asText())
          && k.path("timeline").asInt() == timeline && row.contains("| Replica | running |")
          && row.contains("|  " + timeline + " |") && "streaming".equals(clusterState(cluster, c))
          && cluster.request(c, "GET", "/replica", null).status() == 200;
    });
  }

  /** Its walreceiver streams WAL of a timeline after the first (the new primary's), not the old one's. */
  private static boolean streamsOnNewTimeline(TestCluster cluster, String member) {
    try {
      List<java.util.Map<String, Object>> rows = cluster.sql(member,
          "SELECT received_tli FROM pg_stat_wal_receiver WHERE status = 'streaming'");
      return rows.size() == 1 && ((Number) rows.get(0).get("received_tli")).intValue() > 1;
    } catch (Exception e) {
      return false;
    }
  }

  /** The member's {@code state} in {@code GET /cluster}: its replication_state when it publishes one. */
  private static String clusterState(TestCluster cluster, String member) {
    TestCluster.Answer answer = cluster.request(member, "GET", "/cluster", null);
    if (answer.status() != 200) return "";
    for (JsonNode m : answer.json().path("members")) {
      if (member.equals(m.path("name").asText())) return m.path("state").asText();
    }
    return "";
  }

  /** The member's row in pghactl list (patronictl 3.0.2's table: its State column is the member key's state). */
  private static String tableRow(String table, String member) {
    for (String line : table.split("\n")) {
      if (line.contains("| " + member + " ")) return line;
    }
    return "";
  }
}
