package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SIGTERM to the leader's agent is an orderly shutdown: it stops PostgreSQL and releases the leader key at once,
 * so a replica takes over within a few seconds (no ttl wait), and the old primary accepts no writes afterwards.
 */
@Tag("integration")
class SigtermHandoverIT {

  /** Well under ttl (10 s): a release, not an expiry, must trigger the takeover. */
  private static final Duration HANDOVER_MAX = Duration.ofSeconds(9);

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void anotherMemberTakesOverWithinSeconds() throws Exception {
    TestCluster cluster = clusters.start("sigterm", 3);
    String oldLeader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    cluster.createWritesTable(oldLeader);
    assertThat(cluster.tryWrite(oldLeader)).isTrue();

    long signalledAt = System.nanoTime();
    cluster.sigtermAgent(oldLeader);

    Optional<String> newLeader = Optional.empty();
    long deadline = signalledAt + Duration.ofSeconds(30).toNanos();
    while (newLeader.isEmpty() && System.nanoTime() < deadline) {
      for (String member : cluster.memberNames()) {
        if (!member.equals(oldLeader) && cluster.tryWrite(member)) {
          newLeader = Optional.of(member);
          break;
        }
      }
      TestCluster.sleep(Duration.ofMillis(100));
    }
    Duration handover = Duration.ofNanos(System.nanoTime() - signalledAt);
    System.out.println("SigtermHandoverIT: " + newLeader.orElse("nobody") + " accepted writes " + handover.toMillis()
        + " ms after SIGTERM");
    assertThat(newLeader).as("a replica accepts writes after the leader's SIGTERM").isPresent();
    assertThat(handover).isLessThan(HANDOVER_MAX);

    assertThat(cluster.tryWrite(oldLeader)).as("the old primary accepts no writes").isFalse();
    assertThat(cluster.agent(oldLeader).waitFor(Duration.ofSeconds(30))).as("the agent exits on SIGTERM").isTrue();
    assertThat(cluster.tryWrite(oldLeader)).as("the old primary accepts no writes").isFalse();
    assertThat(cluster.awaitLeader(Duration.ofSeconds(30))).isEqualTo(newLeader.get());
  }
}
