package io.pgha.dcs;

import io.pgha.config.ZooKeeperConfig;
import io.pgha.decision.ClusterView;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryForever;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's ZooKeeper layout through Curator. One persistent recursive watch (a {@link CuratorCache}) on the
 * cluster's base path keeps a local copy of every znode, so a change of any key (the leader key vanishing above all)
 * is known the moment ZooKeeper sends the event; each change hands a fresh {@link ClusterView} to the listener.
 * Every write is asynchronous and comes back as a Vert.x {@link Future} on the caller's context.
 */
public final class ZooKeeperDcs implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperDcs.class);
  private static final long REQUEST_TIMEOUT_MS = 2000;

  private final Context context;
  private final ZkLayout layout;
  private final String myName;
  private final ZooKeeperConfig zookeeper;
  private final int connectionTimeoutMs;
  /** The session that owns our ephemeral keys; replaced when ttl changes (see {@link #renewSession}). */
  private volatile CuratorFramework client;
  private volatile CuratorCache cache;
  private volatile int sessionTimeoutMs;
  /** For the REST API's reads and compare-and-set writes: a client of its own that outlives session renewals. */
  private final CuratorFramework requestClient;
  private volatile boolean renewing;
  private final Consumer<ClusterView> onView;
  private final Consumer<DcsHealth> onHealth;
  private final AtomicLong lockConfirmedAtMs = new AtomicLong();
  private final AtomicLong lastGoodReadEpochMs = new AtomicLong();
  private volatile boolean connected;
  private final Object connectionLock = new Object();
  private volatile boolean cacheReady;
  private volatile boolean closed;
  private PersistentNode memberNode;
  private volatile Consumer<java.time.Duration> requestObserver = d -> { };

  public ZooKeeperDcs(Context context, ZooKeeperConfig zookeeper, String basePath, String myName, int sessionTimeoutMs,
      int connectionTimeoutMs, Consumer<ClusterView> onView, Consumer<DcsHealth> onHealth) {
    this(context, zookeeper, basePath, myName, new Clients(newClient(zookeeper, sessionTimeoutMs, connectionTimeoutMs),
        newClient(zookeeper, sessionTimeoutMs, connectionTimeoutMs), sessionTimeoutMs, connectionTimeoutMs), onView,
        onHealth);
  }

  /** With the clients {@link #connect} started earlier (their session handshake overlapped the agent's start). */
  public ZooKeeperDcs(Context context, ZooKeeperConfig zookeeper, String basePath, String myName, Clients clients,
      Consumer<ClusterView> onView, Consumer<DcsHealth> onHealth) {
    this.context = context;
    this.layout = new ZkLayout(basePath);
    this.myName = myName;
    this.onView = onView;
    this.onHealth = onHealth;
    this.zookeeper = zookeeper;
    this.connectionTimeoutMs = clients.connectionTimeoutMs();
    this.sessionTimeoutMs = clients.sessionTimeoutMs();
    this.client = clients.session();
    this.cache = CuratorCache.build(client, basePath);
    this.requestClient = clients.requests();
  }

  /** The session's client (owner of the ephemeral keys) and the REST API's, with the timeouts they were built with. */
  public record Clients(CuratorFramework session, CuratorFramework requests, int sessionTimeoutMs,
      int connectionTimeoutMs) {}

  /**
   * Builds both clients and starts connecting them at once (Curator's own threads), so that the ZooKeeper session is
   * being established while the caller builds the rest of the agent; hand them to the constructor afterwards.
   */
  public static Clients connect(ZooKeeperConfig zookeeper, int sessionTimeoutMs, int connectionTimeoutMs) {
    Clients clients = new Clients(newClient(zookeeper, sessionTimeoutMs, connectionTimeoutMs),
        newClient(zookeeper, sessionTimeoutMs, connectionTimeoutMs), sessionTimeoutMs, connectionTimeoutMs);
    // the moment the handshake ends (startup.sh reads it); the DCS's own listener is added later, in start()
    clients.session().getConnectionStateListenable().addListener((c, state) -> {
      if (state == ConnectionState.CONNECTED) {
        LOG.info("zookeeper session established (session 0x{}, timeout {} ms granted)",
            Long.toHexString(sessionIdOf(c)), sessionTimeoutOf(c));
      }
    });
    clients.session().start();
    clients.requests().start();
    return clients;
  }

  private CuratorFramework newClient(int timeoutMs) {
    return newClient(zookeeper, timeoutMs, connectionTimeoutMs);
  }

  private static CuratorFramework newClient(ZooKeeperConfig zookeeper, int timeoutMs, int connectionTimeoutMs) {
    return ZkClients.builder(zookeeper)
        .sessionTimeoutMs(timeoutMs)
        .connectionTimeoutMs(connectionTimeoutMs)
        .retryPolicy(new RetryForever(500))
        .build();
  }

  public ZkLayout layout() {
    return layout;
  }

  /** Receives the duration of every request (for the request latency metric). */
  public void observeRequests(Consumer<java.time.Duration> observer) {
    this.requestObserver = observer;
  }

  /** The Curator client, for the REST API's own reads and compare-and-set writes (never for leadership). */
  public CuratorFramework curator() {
    return requestClient;
  }

  /** Connects and starts watching; completes once the first full view is loaded. */
  public Future<Void> start() {
    Promise<Void> started = Promise.promise();
    CuratorFramework first = client;
    first.getConnectionStateListenable().addListener((c, state) -> {
      if (c == client) onConnectionState(state);
    });
    watch(cache, () -> {
      cacheReady = true;
      publishView();
      context.runOnContext(v -> started.tryComplete());
    });
    // started already when the clients came from connect(): their CONNECTED event may have gone before the listener
    if (first.getState() == CuratorFrameworkState.LATENT) first.start();
    if (requestClient.getState() == CuratorFrameworkState.LATENT) requestClient.start();
    cache.start();
    connectedBeforeListening();
    return started.future();
  }

  private void watch(CuratorCache watched, Runnable onInitialized) {
    watched.listenable().addListener(CuratorCacheListener.builder()
        .forAll((type, oldData, data) -> {
          if (watched == cache) publishView();
        })
        .forInitialized(onInitialized)
        .build());
  }

  /**
   * A new ttl needs a new session: ZooKeeper fixes a session's timeout when the session is created. Patroni restarts
   * its client, so its leader key and member key vanish until re-created. pgha opens the new session first and moves
   * its ephemeral keys to it in one transaction (delete and re-create, atomically), so the leader key never goes
   * away and no member disappears; then it closes the old session. Watchers see the keys re-created at once.
   */
  public Future<Void> renewSession(int newSessionTimeoutMs) {
    if (newSessionTimeoutMs == sessionTimeoutMs || closed) return Future.succeededFuture();
    return context.owner().executeBlocking(() -> {
      CuratorFramework fresh = newClient(newSessionTimeoutMs);
      fresh.start();
      if (!fresh.blockUntilConnected(Math.max(3000, connectionTimeoutMs * 3), TimeUnit.MILLISECONDS)) {
        fresh.close();
        throw new IllegalStateException("cannot open a new zookeeper session: not connected");
      }
      CuratorFramework old = client;
      CuratorCache oldCache = cache;
      long oldSession = sessionId();
      renewing = true;
      try {
        List<CuratorOp> moves = new ArrayList<>();
        for (String path : List.of(layout.leader(), layout.member(myName))) {
          Stat stat = new Stat();
          byte[] data;
          try {
            data = old.getData().storingStatIn(stat).forPath(path);
          } catch (KeeperException.NoNodeException gone) {
            continue;
          }
          if (stat.getEphemeralOwner() != oldSession) continue;
          moves.add(fresh.transactionOp().delete().withVersion(stat.getVersion()).forPath(path));
          moves.add(fresh.transactionOp().create().withMode(CreateMode.EPHEMERAL).forPath(path, data));
        }
        try {
          if (!moves.isEmpty()) fresh.transaction().forOperations(moves);
        } catch (Exception e) {
          // a key changed meanwhile (say, we lost the leader key): keep the old session, nothing moved
          fresh.close();
          throw e;
        }
        fresh.getConnectionStateListenable().addListener((c, state) -> {
          if (c == client) onConnectionState(state);
        });
        client = fresh;
        sessionTimeoutMs = newSessionTimeoutMs;
        lockConfirmedAtMs.set(monotonicMs());
        CuratorCache fresher = CuratorCache.build(fresh, layout.base());
        java.util.concurrent.CountDownLatch loaded = new java.util.concurrent.CountDownLatch(1);
        watch(fresher, loaded::countDown);
        cache = fresher;
        fresher.start();
        loaded.await(10, TimeUnit.SECONDS);
        synchronized (this) {
          // the old PersistentNode is left as it is: closing it would delete the key that now belongs to us
          byte[] memberData = memberNode == null ? null : memberNode.getData();
          if (memberData != null) {
            memberNode = new PersistentNode(fresh, CreateMode.EPHEMERAL, false, layout.member(myName), memberData);
            memberNode.start();
          }
        }
        oldCache.close();
        old.close();
        LOG.info("zookeeper session renewed with a timeout of {} ms (0x{} -> 0x{}), {} keys moved",
            newSessionTimeoutMs, Long.toHexString(oldSession), Long.toHexString(sessionId()), moves.size() / 2);
        return null;
      } finally {
        renewing = false;
        publishHealth();
        publishView();
      }
    });
  }

  /** A session made before {@link #start} added the listener: Curator reported it to nobody. */
  private void connectedBeforeListening() {
    synchronized (connectionLock) {
      if (connected || !client.getZookeeperClient().isConnected()) return;
      connected = true;
      LOG.info("zookeeper connection connected (session 0x{})", Long.toHexString(sessionId()));
    }
    publishHealth();
    publishView();
  }

  private void onConnectionState(ConnectionState state) {
    synchronized (connectionLock) {
      boolean nowConnected = state.isConnected();
      if (nowConnected != connected) {
        LOG.info("zookeeper connection {} (session 0x{})", state.name().toLowerCase(), Long.toHexString(sessionId()));
      }
      connected = nowConnected;
    }
    publishHealth();
    if (state.isConnected()) publishView();
  }

  public long sessionId() {
    return sessionIdOf(client);
  }

  public long negotiatedSessionTimeoutMs() {
    return sessionTimeoutOf(client);
  }

  private static long sessionIdOf(CuratorFramework c) {
    try {
      return c.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      return 0;
    }
  }

  private static long sessionTimeoutOf(CuratorFramework c) {
    try {
      return c.getZookeeperClient().getZooKeeper().getSessionTimeout();
    } catch (Exception e) {
      return 0;
    }
  }

  public DcsHealth health() {
    return new DcsHealth(connected, sessionId(), negotiatedSessionTimeoutMs(), lockConfirmedAtMs.get(),
        lastGoodReadEpochMs.get());
  }

  private void publishHealth() {
    DcsHealth h = health();
    context.runOnContext(v -> onHealth.accept(h));
  }

  /** The current view from the watched copy. */
  public ClusterView view() {
    Map<String, byte[]> members = new HashMap<>();
    String membersPrefix = layout.members() + "/";
    cache.stream()
        .filter(d -> d.getPath().startsWith(membersPrefix) && d.getPath().indexOf('/', membersPrefix.length()) < 0)
        .forEach(d -> members.put(d.getPath().substring(membersPrefix.length()), d.getData()));
    ChildData leader = cache.get(layout.leader()).orElse(null);
    long owner = leader == null || leader.getStat() == null ? 0 : leader.getStat().getEphemeralOwner();
    return ViewParser.parse(new ViewParser.RawCluster(
        leader == null ? null : leader.getData(), owner, members,
        data(layout.initialize()), data(layout.config()), data(layout.failover()), data(layout.history()),
        data(layout.status()), data(layout.sync()), version(layout.sync()), null, data(layout.failsafe())),
        sessionId());
  }

  private int version(String path) {
    return cache.get(path).map(d -> d.getStat() == null ? -1 : d.getStat().getVersion()).orElse(-1);
  }

  /** The value of {@code path} as last seen by the cache (empty for a node without data), or null when absent. */
  public byte[] cachedData(String path) {
    return data(path);
  }

  private byte[] data(String path) {
    return cache.get(path).map(d -> d.getData() == null ? new byte[0] : d.getData()).orElse(null);
  }

  private void publishView() {
    if (!cacheReady || closed || renewing) return;
    lastGoodReadEpochMs.set(System.currentTimeMillis());
    ClusterView v = view();
    context.runOnContext(x -> onView.accept(v));
  }

  // ---- the leader key ----

  /** Creates the ephemeral leader znode; true if we won, false if it exists. */
  public Future<Boolean> acquireLeader() {
    long sentAt = monotonicMs();
    return request(promise -> client.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
        .inBackground(callback(promise, e -> {
          if (e.getResultCode() == KeeperException.Code.OK.intValue()) {
            lockConfirmedAtMs.set(sentAt);
            return true;
          }
          if (e.getResultCode() == KeeperException.Code.NODEEXISTS.intValue()) return false;
          throw error(e);
        })).forPath(layout.leader(), bytes(myName)));
  }

  /** Deletes the leader znode if this session owns it. */
  public Future<Void> releaseLeader() {
    return this.<CuratorEvent>request(promise -> client.checkExists().inBackground(callback(promise, e -> e))
            .forPath(layout.leader()))
        .compose(event -> {
          Stat stat = event.getStat();
          if (stat == null || stat.getEphemeralOwner() != sessionId()) return Future.succeededFuture();
          return this.<Void>request(p -> client.delete().withVersion(stat.getVersion())
              .inBackground(callback(p, e -> {
                int rc = e.getResultCode();
                if (rc == KeeperException.Code.OK.intValue() || rc == KeeperException.Code.NONODE.intValue()) {
                  return null;
                }
                throw error(e);
              })).forPath(layout.leader()));
        });
  }

  /**
   * Proves that our session still owns the leader key: the server touched our session after {@code sentAt}, so it
   * cannot expire before {@code sentAt + session timeout}. Returns whether we still own it.
   */
  public Future<Boolean> confirmLeader() {
    long sentAt = monotonicMs();
    long session = sessionId();
    return request(promise -> client.checkExists().inBackground(callback(promise, e -> {
      if (e.getResultCode() != KeeperException.Code.OK.intValue() && e.getResultCode()
          != KeeperException.Code.NONODE.intValue()) {
        throw error(e);
      }
      Stat stat = e.getStat();
      boolean mine = stat != null && stat.getEphemeralOwner() == session;
      if (mine) lockConfirmedAtMs.set(sentAt);
      return mine;
    })).forPath(layout.leader()));
  }

  // ---- bootstrap keys ----

  /**
   * Creates {@code initialize} with an empty value: true if we won the bootstrap race. It waits for the server's
   * answer up to the session timeout, not the usual 2 s: the create cannot be told from another member's afterwards
   * (the value is "" either way), so a winner that stopped waiting too early would, like everyone else, wait for
   * ever for a bootstrap nobody runs (seen on a heavily loaded machine: the answer came after 2 s).
   */
  public Future<Boolean> raceInitialize() {
    return request(Math.max(REQUEST_TIMEOUT_MS, sessionTimeoutMs), promise -> client.create().creatingParentContainersIfNeeded()
        .inBackground(callback(promise, e -> {
          if (e.getResultCode() == KeeperException.Code.OK.intValue()) return true;
          if (e.getResultCode() == KeeperException.Code.NODEEXISTS.intValue()) return false;
          throw error(e);
        })).forPath(layout.initialize(), new byte[0]));
  }

  public Future<Void> deleteInitialize() {
    return request(promise -> client.delete().inBackground(callback(promise, e -> null)).forPath(layout.initialize()));
  }

  /** Writes a persistent key, creating it (and its parents) when missing. */
  public Future<Void> put(String path, String value) {
    byte[] data = bytes(value);
    return this.<Integer>request(promise -> client.setData().inBackground(callback(promise, e -> e.getResultCode()))
            .forPath(path, data))
        .compose(rc -> {
          if (rc == KeeperException.Code.OK.intValue()) return Future.succeededFuture();
          if (rc != KeeperException.Code.NONODE.intValue()) {
            return Future.failedFuture(KeeperException.create(KeeperException.Code.get(rc), path));
          }
          return this.<Void>request(p -> client.create().creatingParentContainersIfNeeded()
              .inBackground(callback(p, e -> {
                if (e.getResultCode() == KeeperException.Code.OK.intValue()) return null;
                throw error(e);
              })).forPath(path, data));
        });
  }

  /**
   * Writes a persistent key only if it is still at {@code expectedVersion} (-1: only if it does not exist); false
   * when someone else changed it first.
   */
  public Future<Boolean> compareAndSet(String path, String value, int expectedVersion) {
    byte[] data = bytes(value);
    if (expectedVersion < 0) return createIfAbsent(path, value);
    return request(promise -> client.setData().withVersion(expectedVersion)
        .inBackground(callback(promise, e -> {
          if (e.getResultCode() == KeeperException.Code.OK.intValue()) return true;
          if (e.getResultCode() == KeeperException.Code.BADVERSION.intValue()
              || e.getResultCode() == KeeperException.Code.NONODE.intValue()) {
            return false;
          }
          throw error(e);
        })).forPath(path, data));
  }

  /** Creates a persistent key only if it does not exist yet (the bootstrap winner's {@code config}). */
  public Future<Boolean> createIfAbsent(String path, String value) {
    return request(promise -> client.create().creatingParentContainersIfNeeded()
        .inBackground(callback(promise, e -> {
          if (e.getResultCode() == KeeperException.Code.OK.intValue()) return true;
          if (e.getResultCode() == KeeperException.Code.NODEEXISTS.intValue()) return false;
          throw error(e);
        })).forPath(path, bytes(value)));
  }

  // ---- our member key ----

  /** Publishes {@code members/<name>}; Curator's PersistentNode re-creates it after a session change. */
  public synchronized void publishMember(String json) {
    byte[] data = bytes(json);
    if (memberNode == null) {
      memberNode = new PersistentNode(client, CreateMode.EPHEMERAL, false, layout.member(myName), data);
      memberNode.start();
      return;
    }
    try {
      memberNode.setData(data);
    } catch (Exception e) {
      LOG.debug("member key not written yet: {}", e.toString());
    }
  }

  /** Removes our member key now (agent shutdown). */
  public synchronized void removeMember() {
    if (memberNode == null) return;
    try {
      memberNode.close();
    } catch (Exception e) {
      LOG.debug("closing member node: {}", e.toString());
    }
    memberNode = null;
  }

  /** Whether a member key with this name already exists, owned by another session (§3.1 unique-name guard). */
  public Future<String> existingMemberApiUrl(String name) {
    return request(promise -> client.getData().inBackground(callback(promise, e -> {
      if (e.getResultCode() != KeeperException.Code.OK.intValue()) return null;
      if (e.getStat() != null && e.getStat().getEphemeralOwner() == sessionId()) return null;
      return ViewParser.member(name, e.getData()).apiUrl();
    })).forPath(layout.member(name)));
  }

  @Override
  public void close() {
    closed = true;
    removeMember();
    cache.close();
    client.close();
    requestClient.close();
  }

  // ---- plumbing ----

  private interface EventMapper<T> {
    T map(CuratorEvent event) throws Exception;
  }

  private <T> BackgroundCallback callback(Promise<T> promise, EventMapper<T> mapper) {
    return (c, event) -> {
      T result;
      try {
        result = mapper.map(event);
      } catch (Exception e) {
        promise.tryFail(e);
        return;
      }
      promise.tryComplete(result);
    };
  }

  private interface Starter<T> {
    void start(Promise<T> promise) throws Exception;
  }

  /** Runs one background request with a deadline: a ZooKeeper that does not answer is an error, not a hang. */
  private <T> Future<T> request(Starter<T> starter) {
    return request(REQUEST_TIMEOUT_MS, starter);
  }

  private <T> Future<T> request(long timeoutMs, Starter<T> starter) {
    Context caller = io.vertx.core.Vertx.currentContext() != null ? io.vertx.core.Vertx.currentContext() : context;
    Promise<T> promise = Promise.promise();
    try {
      starter.start(promise);
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
    long timer = caller.owner().setTimer(timeoutMs,
        t -> promise.tryFail(new java.util.concurrent.TimeoutException("zookeeper did not answer within "
            + timeoutMs + " ms")));
    long startNanos = System.nanoTime();
    // Curator answers on its own threads: hand the result back to the caller's event loop
    return Future.fromCompletionStage(promise.future().toCompletionStage(), caller)
        .andThen(r -> {
          caller.owner().cancelTimer(timer);
          requestObserver.accept(java.time.Duration.ofNanos(System.nanoTime() - startNanos));
        });
  }

  private static KeeperException error(CuratorEvent e) {
    return KeeperException.create(KeeperException.Code.get(e.getResultCode()), e.getPath());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static long monotonicMs() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
  }
}
