package io.pgha.events;

import io.pgha.config.ZooKeeperConfig;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.zookeeper.ZookeeperClusterManager;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-wide event stream: a clustered Vert.x instance of its own (never the agent's) that joins the other
 * members through the Vert.x ZooKeeper cluster manager on the same ensemble, under {@code /pgha-events/<scope>}
 * (never under Patroni's {@code /service}), and carries observations on the cluster-wide address
 * {@code pgha.events.<scope>}. No HA decision may depend on it: it can be down, late or lossy.
 *
 * <p>Isolation from the HA loop: its own Vert.x, its own Curator client and ZooKeeper session, its own supervisor
 * thread. {@link #publish} never throws and never blocks (it only enqueues on this instance's event loop, bounded;
 * when the cluster is down or the queue is full the event is dropped and counted).
 *
 * <p>Self-healing. vertx-zookeeper 5.0.7 does not survive a ZooKeeper session expiry: on {@code CONNECTION_LOST} its
 * {@code ZookeeperClusterManager} clears its {@code joined} flag and on {@code CONNECTION_RECONNECTED} re-creates the
 * node's ephemeral entry under {@code /cluster/nodes} only if that flag is set, so after an expiry (which deletes the
 * entry) the node is missing from every member's {@code getNodes()} for good, and a member that opens a new
 * connection to it cannot resolve its address ({@code getNodeInfo}: "Not a member of the cluster"): it stops receiving
 * (see {@code SessionExpiryTest}). This class therefore treats the loss of its session as fatal for the clustered
 * instance and rebuilds it (close, then a new Curator client, cluster manager, Vert.x and node id), with backoff when
 * ZooKeeper cannot be reached. It reacts to Curator's {@link ConnectionState#LOST} and, as a second line, to a
 * watchdog that finds its own node id missing from the member list while connected.
 *
 * <p>Threads: {@link #subscribe subscribers} are called on this instance's event loop (never the agent's): they must
 * not block, and must hop to their own context for anything context-bound (as {@link EventsRoute} does). The future
 * returned by {@link #start} completes on this instance's threads.
 *
 * <p>Here: publishing, subscribing and healing (rebuild, watchdog, backoff); one clustered instance's own life
 * (building, joining, tearing down) is {@link ClusterInstance}; the SSE route is {@link EventsRoute}.
 */
public final class EventStream implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.events");

  /** The ZooKeeper path all event clusters live under (one child per scope). */
  public static final String ROOT_PATH = "/pgha-events";

  /** Tunables; {@link #defaults()} suits an agent, tests shorten them. */
  public record Settings(
      int sessionTimeoutMs,
      int connectTimeoutMs,
      long joinTimeoutMs,
      long closeTimeoutMs,
      long checkIntervalMs,
      long minBackoffMs,
      long maxBackoffMs,
      int maxPending,
      int eventBusPort) {

    public static Settings defaults() {
      return new Settings(10_000, 3_000, 20_000, 5_000, 2_000, 500, 30_000, 10_000, 0);
    }

    public Settings withSessionTimeoutMs(int ms) {
      return new Settings(ms, connectTimeoutMs, joinTimeoutMs, closeTimeoutMs, checkIntervalMs, minBackoffMs,
          maxBackoffMs, maxPending, eventBusPort);
    }

    public Settings withCheckIntervalMs(long ms) {
      return new Settings(sessionTimeoutMs, connectTimeoutMs, joinTimeoutMs, closeTimeoutMs, ms, minBackoffMs,
          maxBackoffMs, maxPending, eventBusPort);
    }

    public Settings withBackoffMs(long min, long max) {
      return new Settings(sessionTimeoutMs, connectTimeoutMs, joinTimeoutMs, closeTimeoutMs, checkIntervalMs, min,
          max, maxPending, eventBusPort);
    }

    public Settings withMaxPending(int max) {
      return new Settings(sessionTimeoutMs, connectTimeoutMs, joinTimeoutMs, closeTimeoutMs, checkIntervalMs,
          minBackoffMs, maxBackoffMs, max, eventBusPort);
    }

    /** A fixed port for the event bus's TCP server (0: any free port); members connect to each other on it. */
    public Settings withEventBusPort(int port) {
      return new Settings(sessionTimeoutMs, connectTimeoutMs, joinTimeoutMs, closeTimeoutMs, checkIntervalMs,
          minBackoffMs, maxBackoffMs, maxPending, port);
    }
  }

  private final ZooKeeperConfig zookeeper;
  private final String scope;
  private final String member;
  private final String advertiseHost;
  private final Settings settings;
  private final String address;
  private final String namespace;
  private final ScheduledExecutorService supervisor;
  private final List<Handler<JsonObject>> subscribers = new CopyOnWriteArrayList<>();
  private final LongAdder published = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder received = new LongAdder();
  private final LongAdder rebuilds = new LongAdder();
  private final Promise<Void> closedPromise = Promise.promise();

  // written on the supervisor thread only, read anywhere
  private volatile ClusterInstance current;
  private volatile boolean closed;
  private int generations;
  private int failures;
  private String brokenReason;
  private ScheduledFuture<?> pendingRebuild;
  private ScheduledFuture<?> watchdog;
  private final ClusterInstance.Listener listener = new ClusterInstance.Listener() {
    @Override
    public void delivered(ClusterInstance g, JsonObject event) {
      deliver(g, event);
    }

    @Override
    public void lost(ClusterInstance g) {
      requestRebuild(g, "ZooKeeper session lost");
    }
  };

  private EventStream(ZooKeeperConfig zookeeper, String scope, String member, String advertiseHost,
      Settings settings) {
    this.zookeeper = Objects.requireNonNull(zookeeper, "zookeeper");
    this.scope = requireText(scope, "scope");
    this.member = requireText(member, "memberName");
    this.advertiseHost = requireText(advertiseHost, "advertiseHost");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.address = address(scope);
    this.namespace = (ROOT_PATH + "/" + pathSafe(scope)).substring(1); // Curator's namespace has no leading slash
    this.supervisor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "pgha-events-" + pathSafe(member));
      t.setDaemon(true);
      return t;
    });
  }

  /** The cluster-wide address events of {@code scope} are published on. */
  public static String address(String scope) {
    return "pgha.events." + scope;
  }

  /** The ZooKeeper path of {@code scope}'s event cluster (Vert.x keeps {@code /cluster/nodes}, subscriptions... under it). */
  public static String rootPath(String scope) {
    return ROOT_PATH + "/" + pathSafe(scope);
  }

  /**
   * Joins the event cluster of {@code scope} as {@code memberName}, with default {@link Settings}. Succeeds once this
   * member's clustered instance is up and subscribed; fails (having released everything) when the first attempt
   * fails: ZooKeeper unreachable, the event bus port unavailable. After a success it heals itself for good.
   *
   * @param zookeeperHosts the ensemble, as Curator's connect string ({@code host:port,host:port})
   * @param advertiseHost the address the other members reach this member's event bus on (the event bus listens on
   *     it too)
   */
  public static Future<EventStream> start(String zookeeperHosts, String scope, String memberName,
      String advertiseHost) {
    return start(zookeeperHosts, scope, memberName, advertiseHost, Settings.defaults());
  }

  public static Future<EventStream> start(String zookeeperHosts, String scope, String memberName,
      String advertiseHost, Settings settings) {
    EventStream stream;
    try {
      stream = new EventStream(plain(zookeeperHosts), scope, memberName, advertiseHost, settings);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Promise<EventStream> started = Promise.promise();
    stream.supervisor.execute(() -> {
      try {
        stream.current = ClusterInstance.build(++stream.generations, stream.zookeeper, stream.namespace, stream.scope,
            stream.member, stream.advertiseHost, stream.address, stream.settings, stream.listener);
        stream.startWatchdog();
        started.complete(stream);
      } catch (Throwable t) {
        stream.shutdown();
        started.fail(t);
      }
    });
    return started.future();
  }

  /** {@link #open(String, String, String, String, Settings)} with default {@link Settings}. */
  public static EventStream open(String zookeeperHosts, String scope, String memberName, String advertiseHost) {
    return open(zookeeperHosts, scope, memberName, advertiseHost, Settings.defaults());
  }

  /**
   * Like {@link #start} but returns at once: the first join happens in the background and is retried with backoff
   * until it succeeds (or {@link #close}); {@link #publish} drops until then.
   *
   * @throws IllegalArgumentException when an argument is null or blank
   */
  public static EventStream open(String zookeeperHosts, String scope, String memberName, String advertiseHost,
      Settings settings) {
    return open(plain(zookeeperHosts), scope, memberName, advertiseHost, settings);
  }

  /** As {@link #open(String, String, String, String, Settings)}, connecting as the {@code zookeeper} section says. */
  public static EventStream open(ZooKeeperConfig zookeeper, String scope, String memberName, String advertiseHost,
      Settings settings) {
    EventStream stream = new EventStream(zookeeper, scope, memberName, advertiseHost, settings);
    stream.supervisor.execute(() -> {
      stream.startWatchdog();
      stream.rebuild("first join");
    });
    return stream;
  }

  private static ZooKeeperConfig plain(String zookeeperHosts) {
    return ZooKeeperConfig.plain(List.of(requireText(zookeeperHosts, "zookeeperHosts")));
  }

  // ---- publishing and subscribing ----

  /**
   * Publishes an observation to every member's subscribers (this member's included), adding {@code member} (this
   * member's name) and {@code ts} (ISO-8601, UTC, milliseconds). Never throws, never blocks: when the cluster is down,
   * the event is not JSON-encodable or too many are queued, it is dropped and counted ({@link #droppedCount}).
   * The caller's object is copied, not modified.
   */
  public void publish(JsonObject event) {
    ClusterInstance g = current;
    try {
      if (event == null || closed || g == null || !ClusterInstance.usable(g)) {
        dropped.increment();
        return;
      }
      if (g.pending.incrementAndGet() > settings.maxPending()) {
        g.pending.decrementAndGet();
        dropped.increment();
        return;
      }
      JsonObject e = event.copy()
          .put("member", member)
          .put("ts", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
      try {
        g.context.runOnContext(v -> {
          g.pending.decrementAndGet();
          try {
            if (current == g && ClusterInstance.usable(g)) {
              g.vertx.eventBus().publish(address, e);
              published.increment();
            } else {
              dropped.increment();
            }
          } catch (Throwable t) {
            dropped.increment();
          }
        });
      } catch (Throwable t) {
        g.pending.decrementAndGet();
        throw t;
      }
    } catch (Throwable t) {
      dropped.increment();
      LOG.debug("event dropped: {}", t.toString());
    }
  }

  /**
   * Calls {@code handler} with every event of the cluster (this member's too) for as long as it is subscribed, across
   * rebuilds. Called on this instance's event loop: never block in it, never modify the event.
   */
  public void subscribe(Handler<JsonObject> handler) {
    subscribers.add(Objects.requireNonNull(handler, "handler"));
  }

  public void unsubscribe(Handler<JsonObject> handler) {
    subscribers.remove(handler);
  }

  /** Subscribed handlers, e.g. open {@code /events} streams. */
  public int subscriberCount() {
    return subscribers.size();
  }

  /**
   * Whether events flow now: the clustered instance is up, its ZooKeeper session alive and connected, and this
   * member is in the cluster's member list.
   */
  public boolean healthy() {
    ClusterInstance g = current;
    return !closed && g != null && ClusterInstance.usable(g) && !g.missing;
  }

  public String member() {
    return member;
  }

  public String scope() {
    return scope;
  }

  /** Events handed to the cluster by {@link #publish}. */
  public long publishedCount() {
    return published.sum();
  }

  /** Events {@link #publish} dropped (cluster down, not encodable, queue full). */
  public long droppedCount() {
    return dropped.sum();
  }

  /** Events received from the cluster (this member's included). */
  public long receivedCount() {
    return received.sum();
  }

  /** How often the clustered instance was torn down and rebuilt after it broke (session lost, node missing). */
  public long rebuildCount() {
    return rebuilds.sum();
  }

  /** Stops for good, in the background; see {@link #shutdown} to wait for it. Never blocks, never throws. */
  @Override
  public void close() {
    shutdown();
  }

  /** Stops for good; completes when the clustered instance has left (or after the close timeout). Idempotent. */
  public Future<Void> shutdown() {
    if (!closed) {
      closed = true;
      try {
        supervisor.execute(() -> {
          cancelTimers();
          ClusterInstance g = current;
          current = null;
          if (g != null) {
            g.teardown(settings, scope);
          }
          supervisor.shutdown();
          closedPromise.tryComplete();
        });
      } catch (Exception e) {
        closedPromise.tryComplete(); // supervisor already gone
      }
    }
    return closedPromise.future();
  }

  // ---- for tests ----

  /** The current instance's cluster manager, or null between instances. */
  ZookeeperClusterManager clusterManager() {
    ClusterInstance g = current;
    return g == null ? null : g.clusterManager;
  }

  /** The current instance's Curator client, or null between instances. */
  CuratorFramework curator() {
    ClusterInstance g = current;
    return g == null ? null : g.curator;
  }

  /** The current instance's cluster node id, or null between instances. */
  String nodeId() {
    ClusterInstance g = current;
    return g == null ? null : g.nodeId;
  }

  // ---- building and healing (supervisor thread) ----

  private void deliver(ClusterInstance g, JsonObject event) {
    if (g.retired || event == null) {
      return;
    }
    received.increment();
    for (Handler<JsonObject> h : subscribers) {
      try {
        h.handle(event);
      } catch (Throwable t) {
        LOG.debug("event subscriber failed: {}", t.toString());
      }
    }
  }

  private void requestRebuild(ClusterInstance g, String reason) {
    if (closed) {
      return;
    }
    try {
      supervisor.execute(() -> {
        if (!closed && current == g && pendingRebuild == null) {
          rebuild(reason);
        }
      });
    } catch (Exception e) {
      // supervisor shut down: closing
    }
  }

  private void rebuild(String reason) {
    pendingRebuild = null;
    if (closed) {
      return;
    }
    ClusterInstance old = current;
    current = null;
    if (old != null) {
      brokenReason = reason;
      rebuilds.increment();
      LOG.warn("event stream {}: rebuilding the clustered instance ({}); events are dropped meanwhile", scope, reason);
      old.teardown(settings, scope);
    }
    try {
      current = ClusterInstance.build(++generations, zookeeper, namespace, scope, member, advertiseHost, address,
            settings, listener);
      failures = 0;
      if (brokenReason != null) {
        publish(Events.eventsRejoined(brokenReason));
        brokenReason = null;
      }
    } catch (Throwable t) {
      failures++;
      long delay = Math.min(settings.maxBackoffMs(),
          settings.minBackoffMs() << Math.min(failures - 1, 16));
      LOG.warn("event stream {}: cannot join the event cluster ({}); retrying in {} ms", scope,
          ClusterInstance.rootCause(t), delay);
      if (!closed) {
        pendingRebuild = supervisor.schedule(() -> rebuild(reason), delay, TimeUnit.MILLISECONDS);
      }
    }
  }

  private void startWatchdog() {
    watchdog = supervisor.scheduleWithFixedDelay(this::check, settings.checkIntervalMs(), settings.checkIntervalMs(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * The second line against the vertx-zookeeper defect: connected, yet this node is missing from the member list
   * (its ephemeral entry is gone and will never come back) on two checks in a row: rebuild.
   */
  private void check() {
    try {
      ClusterInstance g = current;
      if (closed || g == null || pendingRebuild != null) {
        return;
      }
      if (g.lost) {
        rebuild("ZooKeeper session lost");
        return;
      }
      if (!g.connected || g.clusterManager == null) {
        return;
      }
      if (g.clusterManager.getNodes().contains(g.nodeId)) {
        g.missingChecks = 0;
        g.missing = false;
      } else if (++g.missingChecks >= 2) {
        g.missing = true;
        rebuild("this member's node " + g.nodeId + " is missing from the cluster's member list");
      }
    } catch (Throwable t) {
      LOG.debug("event stream check failed: {}", t.toString());
    }
  }

  private void cancelTimers() {
    if (pendingRebuild != null) {
      pendingRebuild.cancel(false);
      pendingRebuild = null;
    }
    if (watchdog != null) {
      watchdog.cancel(false);
      watchdog = null;
    }
  }

  private static String requireText(String s, String name) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException(name + " is required");
    }
    return s;
  }

  /** A single ZooKeeper path element: no slash, no characters ZooKeeper or Vert.x node ids trip on. */
  static String pathSafe(String s) {
    String safe = s.replaceAll("[^A-Za-z0-9._-]", "_");
    return safe.equals(".") || safe.equals("..") ? "_" + safe : safe;
  }
}
