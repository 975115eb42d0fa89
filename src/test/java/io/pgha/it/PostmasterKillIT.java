package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Only the leader's postmaster crashes; its agent lives and still holds the leader key, so it must restart
 * PostgreSQL in place: writes resume on the same member, and no other member is promoted meanwhile.
 */
@Tag("integration")
class PostmasterKillIT {

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void leaderRestartsItsPostgresAndKeepsLeading() throws Exception {
    TestCluster cluster = clusters.start("pmkill", 3);
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    cluster.createWritesTable(leader);
    assertThat(cluster.tryWrite(leader)).isTrue();

    long killedPid = cluster.killPostmaster(leader);
    assertThat(cluster.tryWrite(leader)).as("writes fail right after the crash").isFalse();

    Duration recovery = cluster.awaitWritable(leader, Duration.ofSeconds(60));
    System.out.println("PostmasterKillIT: " + leader + " accepted writes again after " + recovery.toMillis() + " ms");
    assertThat(cluster.postmasterPid(leader)).isPresent();
    assertThat(cluster.postmasterPid(leader).getAsLong()).as("a new postmaster").isNotEqualTo(killedPid);
    assertThat(cluster.agent(leader).isAlive()).isTrue();
    assertThat(cluster.leader()).contains(leader);
    for (String other : cluster.memberNames()) {
      if (!other.equals(leader)) {
        assertThat(cluster.tryWrite(other)).as(other + " must not have been promoted").isFalse();
      }
    }
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(60));
  }
}
