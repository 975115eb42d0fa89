package io.pgha.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import io.pgha.zk.EmbeddedZooKeeper;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventStreamTest {
  @TempDir static Path dir;
  static EmbeddedZooKeeper zk;

  @BeforeAll
  static void startZooKeeper() throws Exception {
    zk = ZkSupport.startZooKeeper(dir.resolve("zk"));
  }

  @AfterAll
  static void stopZooKeeper() {
    if (zk != null) {
      zk.close();
    }
  }

  /** Three members, each its own clustered Vert.x in this JVM: what one publishes, all see, stamped. */
  @Test
  void everyMemberReceivesWhatOnePublishes() throws Exception {
    String scope = "three-" + UUID.randomUUID();
    EventStream a = null;
    EventStream b = null;
    EventStream c = null;
    CuratorFramework admin = null;
    try {
      a = ZkSupport.start(zk.connectString(), scope, "pg-a");
      b = ZkSupport.start(zk.connectString(), scope, "pg-b");
      c = ZkSupport.start(zk.connectString(), scope, "pg-c");
      ZkSupport.Collector atA = new ZkSupport.Collector(a);
      ZkSupport.Collector atB = new ZkSupport.Collector(b);
      ZkSupport.Collector atC = new ZkSupport.Collector(c);
      ZkSupport.awaitFlow(a, Duration.ofSeconds(10), atB, atC);
      ZkSupport.awaitFlow(b, Duration.ofSeconds(10), atA, atC);
      ZkSupport.awaitFlow(c, Duration.ofSeconds(10), atA, atB);

      JsonObject event = Events.roleChanged("replica", "primary", "running", 3).put("id", "promoted-1");
      Instant before = Instant.now().minusMillis(1);
      b.publish(event);
      await().atMost(Duration.ofSeconds(5)).until(() -> atA.has(ZkSupport.withId("promoted-1"))
          && atB.has(ZkSupport.withId("promoted-1")) && atC.has(ZkSupport.withId("promoted-1")));
      Thread.sleep(300);
      for (ZkSupport.Collector at : List.of(atA, atB, atC)) {
        assertThat(at.count(ZkSupport.withId("promoted-1"))).as("delivered once").isEqualTo(1);
        JsonObject got = at.events.stream().filter(ZkSupport.withId("promoted-1")).findFirst().orElseThrow();
        assertThat(got.getString("type")).isEqualTo(Events.ROLE_CHANGED);
        assertThat(got.getString("to")).isEqualTo("primary");
        assertThat(got.getInteger("timeline")).isEqualTo(3);
        assertThat(got.getString("member")).isEqualTo("pg-b");
        assertThat(Instant.parse(got.getString("ts"))).isBetween(before, Instant.now());
      }
      assertThat(event.containsKey("member")).as("the caller's object is not modified").isFalse();
      assertThat(a.healthy() && b.healthy() && c.healthy()).isTrue();
      assertThat(b.publishedCount()).isPositive();
      assertThat(b.droppedCount()).isZero();

      // its own root path, never under /service
      admin = ZkSupport.curator(zk.connectString(), null);
      assertThat(admin.getChildren().forPath("/pgha-events/" + scope + "/cluster/nodes"))
          .containsExactlyInAnyOrder(a.nodeId(), b.nodeId(), c.nodeId());
      assertThat(admin.checkExists().forPath("/service")).isNull();
      assertThat(admin.checkExists().forPath("/cluster")).isNull();
    } finally {
      ZkSupport.stop(a, b, c);
      if (admin != null) {
        admin.close();
      }
    }
  }

  /** Each scope is a cluster of its own: another cluster's events never show up. */
  @Test
  void scopesDoNotMix() throws Exception {
    String scope = "left-" + UUID.randomUUID();
    EventStream a = null;
    EventStream other = null;
    try {
      a = ZkSupport.start(zk.connectString(), scope, "a");
      other = ZkSupport.start(zk.connectString(), "right-" + UUID.randomUUID(), "b");
      ZkSupport.Collector atA = new ZkSupport.Collector(a);
      ZkSupport.Collector atOther = new ZkSupport.Collector(other);
      ZkSupport.awaitFlow(other, Duration.ofSeconds(10), atOther);
      ZkSupport.awaitFlow(a, Duration.ofSeconds(10), atA);
      Thread.sleep(500);
      assertThat(atA.events).allMatch(e -> "a".equals(e.getString("member")));
      assertThat(atOther.events).allMatch(e -> "b".equals(e.getString("member")));
      assertThat(a.clusterManager().getNodes()).containsExactly(a.nodeId());
    } finally {
      ZkSupport.stop(a, other);
    }
  }

  /** What cannot be sent is dropped and counted, never thrown. */
  @Test
  void badEventsAreDroppedNotThrown() throws Exception {
    EventStream a = null;
    try {
      a = ZkSupport.start(zk.connectString(), "bad-" + UUID.randomUUID(), "a");
      EventStream s = a;
      assertThatCode(() -> {
        s.publish(null);
        s.publish(new JsonObject().put("type", "x").put("thread", (Object) new Object() {}));
      }).doesNotThrowAnyException();
      assertThat(a.droppedCount()).isEqualTo(2);
    } finally {
      ZkSupport.stop(a);
    }
  }

  /**
   * With ZooKeeper gone, publishing neither throws nor blocks (the events are dropped and counted), and the stream is
   * reported unhealthy; when ZooKeeper comes back after the session timed out, the stream rebuilds itself and events
   * flow again.
   */
  @Test
  void publishingWhileZooKeeperIsDownNeitherThrowsNorBlocks() throws Exception {
    EmbeddedZooKeeper own = ZkSupport.startZooKeeper(dir.resolve("own-zk"));
    int port = own.port();
    String hosts = own.connectString();
    String scope = "outage-" + UUID.randomUUID();
    EventStream a = null;
    EventStream b = null;
    try {
      a = ZkSupport.start(hosts, scope, "a");
      b = ZkSupport.start(hosts, scope, "b");
      ZkSupport.Collector atB = new ZkSupport.Collector(b);
      ZkSupport.awaitFlow(a, Duration.ofSeconds(10), atB);

      own.close();
      own = null;
      // right away (before the loss is noticed) and for a while after it
      long[] took = new long[200_000];
      int published = 0;
      long start = System.nanoTime();
      while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2) && published + 1_000 <= took.length) {
        for (int i = 0; i < 1_000; i++) {
          long t0 = System.nanoTime();
          a.publish(new JsonObject().put("type", "probe").put("n", published));
          took[published++] = System.nanoTime() - t0;
        }
        Thread.sleep(20);
      }
      long[] sorted = java.util.Arrays.copyOf(took, published);
      java.util.Arrays.sort(sorted);
      long p99 = sorted[(int) (published * 0.99)];
      long worst = sorted[published - 1];
      System.out.println("published " + published + " events with ZooKeeper down: p99 " + p99 / 1_000 + " us, slowest "
          + worst / 1_000 + " us");
      // blocking on ZooKeeper would take the connect or session timeout (3-4 s); a GC pause is far below 500 ms
      assertThat(p99).as("p99 publish, ns").isLessThan(TimeUnit.MILLISECONDS.toNanos(5));
      assertThat(worst).as("slowest publish, ns").isLessThan(TimeUnit.MILLISECONDS.toNanos(500));
      EventStream aa = a;
      await().atMost(Duration.ofSeconds(5)).until(() -> !aa.healthy());
      long dropped = a.droppedCount();
      assertThat(dropped).isPositive();
      a.publish(new JsonObject().put("type", "probe"));
      assertThat(a.droppedCount()).isEqualTo(dropped + 1);

      // past the session timeout (4 s): the sessions are gone when ZooKeeper comes back
      Thread.sleep(3_000);
      own = EmbeddedZooKeeper.start(port, dir.resolve("own-zk"));
      EventStream bb = b;
      await().atMost(Duration.ofSeconds(20)).until(() -> aa.healthy() && bb.healthy());
      ZkSupport.awaitFlow(a, Duration.ofSeconds(15), atB);
      System.out.println("after the outage: rebuilds a=" + a.rebuildCount() + " b=" + b.rebuildCount());
    } finally {
      long t0 = System.nanoTime();
      ZkSupport.stop(a, b);
      System.out.println("stopped in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      if (own != null) {
        own.close();
      }
    }
  }

  /**
   * Shutting down while ZooKeeper is unreachable is bounded (the close timeout), leaks no thread, and publish afterwards
   * is a no-op.
   */
  @Test
  void shutdownWithZooKeeperDownIsBounded() throws Exception {
    EmbeddedZooKeeper own = ZkSupport.startZooKeeper(dir.resolve("short-zk"));
    EventStream a = ZkSupport.start(own.connectString(), "down-" + UUID.randomUUID(), "a");
    own.close();
    long t0 = System.nanoTime();
    a.shutdown().toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
    System.out.println("shut down with ZooKeeper down in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    assertThat(a.healthy()).isFalse();
    assertThatCode(() -> a.publish(new JsonObject().put("type", "late"))).doesNotThrowAnyException();
    // and nothing is left behind: the clustered instance's threads and the supervisor are gone
    await().atMost(Duration.ofSeconds(10)).until(() -> Thread.getAllStackTraces().keySet().stream()
        .map(Thread::getName).noneMatch(n -> n.startsWith("vert.x-") || n.startsWith("pgha-events-")));
  }

  /** Without ZooKeeper the first join fails (within the connect timeout) instead of hanging. */
  @Test
  void startFailsWhenZooKeeperIsUnreachable() throws Exception {
    String hosts = "127.0.0.1:" + ZkSupport.freePort();
    long t0 = System.nanoTime();
    Future<EventStream> f = EventStream.start(hosts, "nozk", "a", "127.0.0.1", ZkSupport.fastSettings());
    assertThatCode(() -> f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    assertThat(EventStream.start(hosts, "", "a", "127.0.0.1").failed()).isTrue();
  }

  /** {@link EventStream#open} returns at once and keeps trying: it joins once ZooKeeper is there. */
  @Test
  void openJoinsOnceZooKeeperIsThere() throws Exception {
    int port = ZkSupport.freePort();
    EventStream a = EventStream.open("127.0.0.1:" + port, "late-" + UUID.randomUUID(), "a", "127.0.0.1",
        ZkSupport.fastSettings());
    EmbeddedZooKeeper late = null;
    try {
      Thread.sleep(1_000);
      assertThat(a.healthy()).isFalse();
      a.publish(Events.of("early"));
      assertThat(a.droppedCount()).isEqualTo(1);
      late = EmbeddedZooKeeper.start(port, dir.resolve("late-zk"));
      await().atMost(Duration.ofSeconds(20)).until(a::healthy);
      ZkSupport.Collector atA = new ZkSupport.Collector(a);
      ZkSupport.awaitFlow(a, Duration.ofSeconds(5), atA);
      assertThat(a.rebuildCount()).as("a first join is not a rebuild").isZero();
    } finally {
      ZkSupport.stop(a);
      if (late != null) {
        late.close();
      }
    }
  }
}
