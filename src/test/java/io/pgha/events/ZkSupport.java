package io.pgha.events;

import io.pgha.zk.EmbeddedZooKeeper;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/** An in-JVM ZooKeeper, session expiry, and event collection for the event stream tests. */
final class ZkSupport {
  private ZkSupport() {}

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  static EmbeddedZooKeeper startZooKeeper(Path dir) throws IOException {
    return EmbeddedZooKeeper.start(freePort(), dir);
  }

  /** Short timeouts so that a test sees expiry and recovery in seconds. */
  static EventStream.Settings fastSettings() {
    return EventStream.Settings.defaults()
        .withSessionTimeoutMs(4_000)
        .withCheckIntervalMs(500)
        .withBackoffMs(200, 2_000);
  }

  static EventStream start(String hosts, String scope, String member) throws Exception {
    return EventStream.start(hosts, scope, member, "127.0.0.1", fastSettings())
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static void stop(EventStream... streams) throws Exception {
    for (EventStream s : streams) {
      if (s != null) {
        s.shutdown().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      }
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static CuratorFramework curator(String hosts, String namespace) throws InterruptedException {
    CuratorFramework c = CuratorFrameworkFactory.builder().connectString(hosts).namespace(namespace)
        .sessionTimeoutMs(4_000).connectionTimeoutMs(3_000).retryPolicy(new RetryNTimes(20, 200)).build();
    c.start();
    if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("no ZooKeeper at " + hosts);
    }
    return c;
  }

  /**
   * Expires {@code client}'s session on the server: a second connection with the same session id and password, then
   * closed (closing a session ends it for every connection: its ephemeral nodes go, and {@code client} is told
   * "expired" when it talks to the server again). The trick of Curator's old {@code KillSession}.
   */
  static long expireSession(CuratorFramework client, String hosts) throws Exception {
    ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
    long sessionId = zk.getSessionId();
    byte[] password = zk.getSessionPasswd();
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper twin = new ZooKeeper(hosts, 4_000, e -> {
      if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
        connected.countDown();
      }
    }, sessionId, password);
    try {
      if (!connected.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the twin connection did not connect");
      }
    } finally {
      twin.close();
    }
    return sessionId;
  }

  /** Collects what a stream delivers. */
  static final class Collector {
    final List<JsonObject> events = new CopyOnWriteArrayList<>();

    Collector(EventStream stream) {
      stream.subscribe(events::add);
    }

    boolean has(Predicate<JsonObject> p) {
      return events.stream().anyMatch(p);
    }

    long count(Predicate<JsonObject> p) {
      return events.stream().filter(p).count();
    }
  }

  static Predicate<JsonObject> withId(String id) {
    return e -> id.equals(e.getString("id"));
  }

  /**
   * Publishes probes from {@code from} until every collector has one: subscriptions propagate through ZooKeeper
   * asynchronously, so a member that just joined may miss the first events of the others.
   */
  static void awaitFlow(EventStream from, Duration within, Collector... to) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    String id = "probe-" + System.nanoTime();
    while (System.nanoTime() < deadline) {
      from.publish(new JsonObject().put("type", "probe").put("id", id));
      Thread.sleep(100);
      boolean all = true;
      for (Collector c : to) {
        all &= c.has(withId(id));
      }
      if (all) {
        return;
      }
    }
    throw new AssertionError("events from " + from.member() + " did not reach every member within " + within);
  }
}
