package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.events.EventStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cluster-wide event stream carries observations only: with its membership wiped out of ZooKeeper over and over
 * (every agent's clustered Vert.x keeps losing its node and rebuilding), a leader that dies is still replaced within
 * the usual time, because no HA decision depends on the event cluster.
 */
@Tag("integration")
class EventStreamBrokenIT {

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void failoverWorksWhileTheEventClusterIsBroken() throws Exception {
    TestCluster cluster = clusters.start("eventsbroken", 3);
    String oldLeader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    cluster.createWritesTable(oldLeader);

    // the event stream works before we break it: /events answers as Server-Sent Events
    String otherMember = cluster.memberNames().stream().filter(n -> !n.equals(oldLeader)).findFirst().orElseThrow();
    // (the body never ends: take the headers and hang up)
    HttpResponse<java.io.InputStream> events = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(cluster.member(otherMember).restBase() + "/events"))
            .timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    events.body().close();
    assertThat(events.statusCode()).isEqualTo(200);
    assertThat(events.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("text/event-stream"));

    AtomicBoolean breaking = new AtomicBoolean(true);
    AtomicInteger wipes = new AtomicInteger();
    try (CuratorFramework zk = CuratorFrameworkFactory.newClient(cluster.zookeeper().connectString(), 10_000, 2_000,
        new RetryOneTime(100))) {
      zk.start();
      zk.blockUntilConnected(10, java.util.concurrent.TimeUnit.SECONDS);
      Thread breaker = new Thread(() -> {
        while (breaking.get()) {
          try {
            if (zk.checkExists().forPath(EventStream.ROOT_PATH) != null) {
              zk.delete().deletingChildrenIfNeeded().forPath(EventStream.ROOT_PATH);
              wipes.incrementAndGet();
            }
          } catch (Exception concurrentChange) {
            // a member re-created a node while we deleted: try again
          }
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "event-cluster-breaker");
      breaker.start();
      try {
        Thread.sleep(2000);
        cluster.killAgent(oldLeader);
        cluster.killPostmaster(oldLeader);
        String newLeader = cluster.awaitLeaderOtherThan(oldLeader, Duration.ofSeconds(60));
        Duration writable = cluster.awaitWritable(newLeader, Duration.ofSeconds(30));
        assertThat(newLeader).isNotEqualTo(oldLeader);
        assertThat(writable).isLessThan(Duration.ofSeconds(30));
      } finally {
        breaking.set(false);
        breaker.join(5000);
      }
    }
    assertThat(wipes.get()).as("the event cluster's znodes were wiped while the failover ran").isPositive();
  }
}
