package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ZooKeeper goes away. The primary can no longer prove it holds the leader key, and once its session could have
 * expired another member may be promoted elsewhere; so it must stop accepting writes before ttl elapses. With
 * ZooKeeper back, the cluster must have a writable leader again.
 */
@Tag("integration")
class ZooKeeperOutageIT {

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void primaryStopsWritesBeforeTtl() throws Exception {
    TestCluster cluster = clusters.start("zkoutage", 3);
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    cluster.createWritesTable(leader);
    assertThat(cluster.tryWrite(leader)).isTrue();

    long stoppedAt = System.nanoTime();
    cluster.stopZooKeeper();
    Duration ttl = Duration.ofSeconds(TestCluster.TIMING.ttlSeconds());
    Duration lastWrite = Duration.ZERO;
    Duration refused = null;
    while (refused == null && Duration.ofNanos(System.nanoTime() - stoppedAt).compareTo(ttl.multipliedBy(3)) < 0) {
      long attemptAt = System.nanoTime();
      if (cluster.tryWrite(leader)) {
        lastWrite = Duration.ofNanos(System.nanoTime() - stoppedAt);
      } else {
        // measured from the start of the failed attempt: a write that was already refused
        refused = Duration.ofNanos(attemptAt - stoppedAt);
      }
      TestCluster.sleep(Duration.ofMillis(100));
    }
    System.out.println("ZooKeeperOutageIT: last write " + lastWrite.toMillis() + " ms, first refusal "
        + (refused == null ? "never" : refused.toMillis() + " ms") + " after ZooKeeper stopped (ttl " + ttl.toSeconds()
        + " s)");
    assertThat(refused).as("the primary stops accepting writes").isNotNull();
    assertThat(lastWrite).as("last accepted write, after ZooKeeper stopped").isLessThan(ttl);
    assertThat(refused).as("first refused write, after ZooKeeper stopped").isLessThan(ttl);
    for (String member : cluster.memberNames()) {
      assertThat(cluster.tryWrite(member)).as(member + " accepts no writes without ZooKeeper").isFalse();
    }

    cluster.startZooKeeper();
    String leaderAfter = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitWritable(leaderAfter, Duration.ofSeconds(60));
  }
}
