package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The leader's machine dies: its agent and its postmaster are SIGKILLed together. Once the leader key expires
 * (ttl), a replica must be promoted and accept writes; the old member, restarted, must rejoin as a replica
 * streaming from the new leader (pg_rewind or not) and receive what was written meanwhile.
 */
@Tag("integration")
class LeaderKillIT {

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void replicaTakesOverAndOldLeaderRejoins() throws Exception {
    TestCluster cluster = clusters.start("leaderkill", 3);
    String oldLeader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    cluster.createWritesTable(oldLeader);
    assertThat(cluster.tryWrite(oldLeader)).isTrue();

    long killedAt = System.nanoTime();
    cluster.killAgent(oldLeader);
    cluster.killPostmaster(oldLeader);

    // the key lives until the dead session expires: ttl, then one loop to race and promote
    String newLeader = cluster.awaitLeaderOtherThan(oldLeader, Duration.ofSeconds(60));
    cluster.awaitWritable(newLeader, Duration.ofSeconds(30));
    Duration failover = Duration.ofNanos(System.nanoTime() - killedAt);
    System.out.println("LeaderKillIT: " + newLeader + " accepted writes " + failover.toMillis() + " ms after the kill");
    assertThat(newLeader).isNotEqualTo(oldLeader);
    assertThat(failover).isLessThan(Duration.ofSeconds(TestCluster.TIMING.ttlSeconds() + 30));
    long marker = cluster.writeMarker(newLeader).orElseThrow();

    cluster.restartAgent(oldLeader);
    cluster.awaitStreamingFrom(oldLeader, newLeader, Duration.ofSeconds(120));
    assertThat(cluster.leader()).contains(newLeader);
    assertThat(cluster.tryWrite(oldLeader)).as("the old leader is a read-only replica now").isFalse();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!cluster.hasMarker(oldLeader, marker) && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertThat(cluster.hasMarker(oldLeader, marker)).as("the rejoined member has the new leader's writes").isTrue();
  }
}
