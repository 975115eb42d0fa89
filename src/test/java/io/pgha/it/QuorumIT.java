package io.pgha.it;

import static io.pgha.it.DynamicConfigIT.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Quorum commit (patroni-compat §4.7, Patroni 4's {@code synchronous_mode: quorum}) on three members with 1 of the 2
 * standbys required: synchronous_standby_names is {@code ANY 1 (a,b)}, the sync key has quorum 1 of both, both
 * replicas answer {@code /quorum}; then, under continuous writes, the primary's agent and postmaster are SIGKILLed
 * together: a new primary comes within ttl plus a margin and every INSERT whose commit was acknowledged (the ledger)
 * is on it. Either standby may win: whichever gets its peer's vote (or needs none) has every acknowledged commit.
 */
@Tag("integration")
class QuorumIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void anyOneOfTwoKeepsEveryAcknowledgedCommit() throws Exception {
    long startedNs = System.nanoTime();
    TestCluster cluster = clusters.start("quorum", 3);
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    List<String> replicas = new ArrayList<>(cluster.memberNames());
    replicas.remove(leader);
    replicas.sort(null);
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    double upSeconds = (System.nanoTime() - startedNs) / 1e9;
    cluster.createWritesTable(leader);
    String base = cluster.member(leader).basePath();
    String bothReplicas = String.join(",", replicas);

    try (ZooKeeper zk = DynamicConfigIT.connect(cluster.zookeeper().connectString())) {
      ObjectNode config = (ObjectNode) JSON.readTree(zk.getData(base + "/config", false, null));
      config.put("synchronous_mode", "quorum");
      config.put("synchronous_node_count", 1);
      zk.setData(base + "/config", config.toString().getBytes(StandardCharsets.UTF_8), -1);
      JsonNode sync = await("the sync key with quorum 1 of both replicas", Duration.ofSeconds(30), () -> {
        JsonNode s = zk.exists(base + "/sync", false) == null ? null
            : JSON.readTree(zk.getData(base + "/sync", false, null));
        return s != null && leader.equals(s.path("leader").asText()) && s.path("quorum").asInt(-1) == 1
            && bothReplicas.equals(s.path("sync_standby").asText()) ? s : null;
      });
      System.out.printf("QuorumIT: cluster up in %.1f s; sync key %s %.1f s after%n", upSeconds, sync,
          (System.nanoTime() - startedNs) / 1e9 - upSeconds);
    }
    String ssn = String.valueOf(cluster.sql(leader, "SHOW synchronous_standby_names").get(0).values().iterator()
        .next());
    assertThat(ssn).isEqualTo("ANY 1 (" + bothReplicas + ")");
    for (String replica : replicas) {
      await(replica + " answers /quorum", Duration.ofSeconds(20),
          () -> cluster.request(replica, "GET", "/quorum", null).status() == 200 ? true : null);
      assertThat(cluster.request(replica, "GET", "/read-only-quorum", null).status()).isEqualTo(200);
      assertThat(cluster.request(replica, "GET", "/sync", null).status()).isEqualTo(503);
    }
    assertThat(cluster.request(leader, "GET", "/quorum", null).status()).isEqualTo(503);
    assertThat(cluster.request(leader, "GET", "/read-only-quorum", null).status()).isEqualTo(200);
    String table = cluster.table();
    System.out.println(table);
    assertThat(table.lines().filter(l -> l.contains("Quorum Standby")).count()).as(table).isEqualTo(2);

    List<Long> acknowledged = new CopyOnWriteArrayList<>();
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread writer = new Thread(() -> {
      long until = System.nanoTime() + Duration.ofSeconds(120).toNanos(); // bounded, whatever happens
      while (writing.get() && System.nanoTime() < until) {
        OptionalLong marker = cluster.writeMarker(leader);
        marker.ifPresent(acknowledged::add);
      }
    }, "ledger-writer");
    writer.start();
    await("some acknowledged writes", Duration.ofSeconds(60), () -> acknowledged.size() >= 200 ? true : null);

    long killedNs = System.nanoTime();
    cluster.killAgent(leader);
    cluster.killPostmaster(leader);
    Thread.sleep(500); // the writer sees its connection fail
    writing.set(false);
    writer.join(10_000);

    // ttl 10 s: the dead agent's session goes in 10-12 s, then a race; 30 s is ttl plus a 2x margin
    String newLeader = cluster.awaitLeaderOtherThan(leader, Duration.ofSeconds(30));
    double failoverSeconds = (System.nanoTime() - killedNs) / 1e9;
    cluster.awaitWritable(newLeader, Duration.ofSeconds(30));
    assertThat(replicas).contains(newLeader);
    List<Long> missing = cluster.missingMarkers(newLeader, acknowledged);
    System.out.printf("QuorumIT: %d acknowledged commits, %d missing on %s; new primary %.1f s after the kill%n",
        acknowledged.size(), missing.size(), newLeader, failoverSeconds);
    assertThat(missing).as("acknowledged commits missing on the new primary").isEmpty();

    // the new primary takes the key over; with the old primary gone it ends at ANY 1 (the other replica)
    String other = replicas.get(0).equals(newLeader) ? replicas.get(1) : replicas.get(0);
    try (ZooKeeper zk = DynamicConfigIT.connect(cluster.zookeeper().connectString())) {
      await("the sync key led by " + newLeader + " with " + other, Duration.ofSeconds(30), () -> {
        JsonNode s = JSON.readTree(zk.getData(base + "/sync", false, null));
        return newLeader.equals(s.path("leader").asText()) && other.equals(s.path("sync_standby").asText())
            ? true : null;
      });
    }
    await("ssn ANY 1 (" + other + ") on " + newLeader, Duration.ofSeconds(30), () -> ("ANY 1 (" + other + ")")
        .equals(String.valueOf(cluster.sql(newLeader, "SHOW synchronous_standby_names").get(0).values().iterator()
            .next())) ? true : null);
    System.out.printf("QuorumIT: wall %.1f s (load average %s)%n", (System.nanoTime() - startedNs) / 1e9,
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
  }
}
