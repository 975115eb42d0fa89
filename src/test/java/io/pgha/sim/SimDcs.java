package io.pgha.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.dcs.DcsHealth;
import io.pgha.dcs.ViewParser;
import io.pgha.dcs.ZkLayout;
import io.pgha.decision.ClusterView;
import io.pgha.ha.port.Dcs;
import io.pgha.sim.SimZooKeeper.Code;
import io.pgha.sim.SimZooKeeper.Result;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The {@link Dcs} port over {@link SimZkClient}: a watched copy of Patroni's keys (re-read on every watch event and
 * reconnect, as Curator's cache does), parsed by the production {@link ViewParser}; typed writes with the JSON the
 * production adapter writes; the leader key's proof of ownership measured on the member's clock. Views and health
 * go to the loop as inputs; every stage completes through the member's clock gate (the loop's thread).
 */
public final class SimDcs implements Dcs {
  private boolean readFailsafe;

  /** Reads (and watches) the {@code failsafe} key too (§10.2). */
  public void readFailsafe(boolean on) {
    readFailsafe = on;
  }
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SimScheduler sched;
  private final SimZooKeeper server;
  private final SimClock clock;
  private final String me;
  private final ZkLayout layout;
  private SimZkClient client;
  private final long latencyMsMax;
  private Consumer<ClusterView> onView = v -> { };
  private Consumer<DcsHealth> onHealth = h -> { };
  private ClusterView view;
  private long lockConfirmedAtMs;
  private long lastGoodReadWallMs;
  private String memberJson;
  private boolean refreshing;
  private boolean refreshAgain;
  private boolean closed;
  private final CompletableFuture<Void> firstView = new CompletableFuture<>();

  public SimDcs(SimZooKeeper server, SimClock clock, String me, String base, int sessionTimeoutMs,
      long latencyMsMax) {
    this.sched = server.scheduler();
    this.server = server;
    this.clock = clock;
    this.me = me;
    this.layout = new ZkLayout(base);
    this.latencyMsMax = latencyMsMax;
    this.client = newClient(sessionTimeoutMs);
  }

  private SimZkClient newClient(int sessionTimeoutMs) {
    SimZkClient c = new SimZkClient(server, clock, me, sessionTimeoutMs, latencyMsMax);
    c.onStateChange(s -> {
      if (c != client) return;
      sched.log(me + " zk " + s);
      if (c.connected()) {
        ensureMember();
        refresh();
      }
      onHealth.accept(health());
    });
    c.onWatch(path -> {
      if (c == client) refresh();
    });
    return c;
  }

  /** Where views and health go (the loop's inputs). */
  public void sinks(Consumer<ClusterView> views, Consumer<DcsHealth> healths) {
    onView = views;
    onHealth = healths;
  }

  /** Connects; completes once the first full view is read. */
  public CompletionStage<Void> start() {
    client.start();
    return firstView;
  }

  public SimZkClient client() {
    return client;
  }

  // ---- the watched copy ----

  private void refresh() {
    if (closed) return;
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    refreshAgain = false;
    Map<String, Result> data = new TreeMap<>();
    // the failsafe key only in failsafe schedules: one more read changes every other seed's schedule
    List<String> keys = readFailsafe
        ? List.of(layout.leader(), layout.initialize(), layout.config(), layout.failover(), layout.history(),
            layout.status(), layout.sync(), layout.failsafe())
        : List.of(layout.leader(), layout.initialize(), layout.config(), layout.failover(), layout.history(),
            layout.status(), layout.sync());
    int[] left = {keys.size() + 1};
    boolean[] failed = {false};
    Runnable oneDone = () -> {
      if (--left[0] > 0) return;
      refreshing = false;
      if (!failed[0]) publish(data);
      if (refreshAgain || failed[0] && client.connected()) {
        if (failed[0]) {
          clock.after(100, null, this::refresh);
        } else {
          refresh();
        }
      }
    };
    for (String k : keys) {
      client.getData(k, true, r -> {
        if (r.code() == Code.OK || r.code() == Code.NONODE) {
          data.put(k, r);
        } else {
          failed[0] = true;
        }
        oneDone.run();
      });
    }
    client.getChildren(layout.members(), true, r -> {
      if (r.code() != Code.OK && r.code() != Code.NONODE) {
        failed[0] = true;
        oneDone.run();
        return;
      }
      left[0] += r.children().size();
      for (String m : r.children()) {
        String path = layout.member(m);
        client.getData(path, true, mr -> {
          if (mr.code() == Code.OK) data.put(path, mr);
          else if (mr.code() != Code.NONODE) failed[0] = true;
          oneDone.run();
        });
      }
      oneDone.run();
    });
  }

  private void publish(Map<String, Result> data) {
    Map<String, byte[]> members = new TreeMap<>();
    String prefix = layout.members() + "/";
    data.forEach((path, r) -> {
      if (path.startsWith(prefix) && r.code() == Code.OK) members.put(path.substring(prefix.length()), bytes(r));
    });
    Result leader = data.get(layout.leader());
    Result sync = data.get(layout.sync());
    view = ViewParser.parse(new ViewParser.RawCluster(bytes(leader),
        leader != null && leader.code() == Code.OK ? leader.stat().ephemeralOwner() : 0, members,
        bytes(data.get(layout.initialize())), bytes(data.get(layout.config())), bytes(data.get(layout.failover())),
        bytes(data.get(layout.history())), bytes(data.get(layout.status())), bytes(sync),
        sync != null && sync.code() == Code.OK ? sync.stat().version() : -1, null,
        bytes(data.get(layout.failsafe()))), client.sessionId());
    lastGoodReadWallMs = clock.wallMs();
    if (memberJson != null && !members.containsKey(me)) ensureMember();
    onView.accept(view);
    firstView.complete(null);
  }

  private static byte[] bytes(Result r) {
    return r == null || r.code() != Code.OK ? null : (r.data() == null ? "" : r.data())
        .getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public ClusterView view() {
    return view;
  }

  @Override
  public DcsHealth health() {
    return new DcsHealth(client.connected(), client.connected() ? client.sessionId() : 0,
        client.negotiatedTimeoutMs(), lockConfirmedAtMs, lastGoodReadWallMs);
  }

  @Override
  public long negotiatedSessionTimeoutMs() {
    return client.negotiatedTimeoutMs();
  }

  // ---- requests ----

  private static IllegalStateException error(String what, Result r) {
    return new IllegalStateException("zookeeper " + what + ": " + r.code());
  }

  /** ZooKeeperDcs's deadline on every request: a ZooKeeper that does not answer is an error, not a hang. */
  static final long REQUEST_TIMEOUT_MS = 2000;

  private CompletionStage<Result> call(java.util.function.Consumer<Consumer<Result>> op) {
    CompletableFuture<Result> f = new CompletableFuture<>();
    SimClock.Timer deadline = clock.after(REQUEST_TIMEOUT_MS, null, () -> f.completeExceptionally(
        new java.util.concurrent.TimeoutException("zookeeper did not answer within " + REQUEST_TIMEOUT_MS + " ms")));
    op.accept(r -> {
      deadline.cancel();
      f.complete(r);
    });
    return f;
  }

  @Override
  public CompletionStage<Boolean> acquireLeader() {
    long sentAt = clock.monotonicMs();
    return call(cb -> client.create(layout.leader(), me, true, cb)).thenApply(r -> {
      if (r.code() == Code.OK) {
        lockConfirmedAtMs = sentAt;
        return true;
      }
      if (r.code() == Code.NODEEXISTS) return false;
      throw error("acquire leader", r);
    });
  }

  @Override
  public CompletionStage<Void> releaseLeader() {
    long session = client.sessionId();
    return call(cb -> client.getData(layout.leader(), false, cb)).thenCompose(r -> {
      if (r.code() == Code.NONODE || r.code() == Code.OK && r.stat().ephemeralOwner() != session) {
        return CompletableFuture.<Void>completedFuture(null);
      }
      if (r.code() != Code.OK) throw error("release leader", r);
      return call(cb -> client.delete(layout.leader(), r.stat().version(), cb)).thenApply(d -> {
        if (d.code() != Code.OK && d.code() != Code.NONODE) throw error("release leader", d);
        return (Void) null;
      });
    });
  }

  @Override
  public CompletionStage<Boolean> confirmLeader() {
    long sentAt = clock.monotonicMs();
    long session = client.sessionId();
    return call(cb -> client.getData(layout.leader(), false, cb)).thenApply(r -> {
      if (r.code() != Code.OK && r.code() != Code.NONODE) throw error("confirm leader", r);
      boolean mine = r.code() == Code.OK && r.stat().ephemeralOwner() == session;
      if (mine) lockConfirmedAtMs = sentAt;
      return mine;
    });
  }

  @Override
  public CompletionStage<Boolean> raceInitialize() {
    return createIfAbsent(layout.initialize(), "");
  }

  @Override
  public CompletionStage<Void> writeInitialize(String sysid) {
    return put(layout.initialize(), sysid);
  }

  @Override
  public CompletionStage<Boolean> createInitialize(String sysid) {
    return createIfAbsent(layout.initialize(), sysid);
  }

  @Override
  public CompletionStage<Void> deleteInitialize() {
    return call(cb -> client.delete(layout.initialize(), -1, cb)).thenApply(r -> {
      if (r.code() != Code.OK && r.code() != Code.NONODE) throw error("delete initialize", r);
      return null;
    });
  }

  @Override
  public CompletionStage<Boolean> createConfig(String json) {
    return createIfAbsent(layout.config(), json);
  }

  @Override
  public CompletionStage<Void> writeStatus(long optime) {
    return put(layout.status(), "{\"optime\":" + optime + "}");
  }

  @Override
  public CompletionStage<Void> writeFailsafe(java.util.Map<String, String> topology) {
    StringBuilder json = new StringBuilder("{");
    new java.util.TreeMap<>(topology).forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k)
        .append("\":\"").append(v).append('"'));
    return put(layout.failsafe(), json.append('}').toString());
  }

  @Override
  public CompletionStage<Void> clearFailover() {
    return put(layout.failover(), "{}");
  }

  @Override
  public CompletionStage<Void> writeHistory(List<HistoryEntry> history) {
    ArrayNode a = JSON.createArrayNode();
    for (HistoryEntry e : history) {
      ArrayNode line = a.addArray();
      line.add(e.timeline());
      line.add(e.lsn());
      line.add(e.reason());
      line.add(e.timestamp());
      line.add(e.member());
    }
    return put(layout.history(), a.toString());
  }

  @Override
  public CompletionStage<Boolean> writeSync(String leader, Set<String> standbys, int quorum, int expectedVersion) {
    String value;
    if (leader == null) {
      value = "{}";
    } else {
      ObjectNode o = JSON.createObjectNode();
      o.put("leader", leader);
      o.put("quorum", quorum);
      if (standbys.isEmpty()) o.putNull("sync_standby");
      else o.put("sync_standby", String.join(",", new TreeSet<>(standbys)));
      value = o.toString();
    }
    if (expectedVersion < 0) return createIfAbsent(layout.sync(), value);
    return call(cb -> client.setData(layout.sync(), value, expectedVersion, cb)).thenApply(r -> {
      if (r.code() == Code.OK) return true;
      if (r.code() == Code.BADVERSION || r.code() == Code.NONODE) return false;
      throw error("write sync", r);
    });
  }

  private CompletionStage<Void> put(String path, String value) {
    return call(cb -> client.setData(path, value, -1, cb)).thenCompose(r -> {
      if (r.code() == Code.OK) return CompletableFuture.<Void>completedFuture(null);
      if (r.code() != Code.NONODE) throw error("write " + path, r);
      return call(cb -> client.create(path, value, false, cb)).thenApply(c -> {
        if (c.code() != Code.OK && c.code() != Code.NODEEXISTS) throw error("create " + path, c);
        return (Void) null;
      });
    });
  }

  private CompletionStage<Boolean> createIfAbsent(String path, String value) {
    return call(cb -> client.create(path, value, false, cb)).thenApply(r -> {
      if (r.code() == Code.OK) return true;
      if (r.code() == Code.NODEEXISTS) return false;
      throw error("create " + path, r);
    });
  }

  // ---- our member key (PersistentNode-style) ----

  @Override
  public void publishMember(String json) {
    memberJson = json;
    ensureMember();
  }

  private void ensureMember() {
    if (memberJson == null || !client.connected() || closed) return;
    String json = memberJson;
    long session = client.sessionId();
    client.create(layout.member(me), json, true, r -> {
      if (r.code() != Code.NODEEXISTS) return;
      client.getData(layout.member(me), false, g -> {
        if (g.code() == Code.OK && g.stat().ephemeralOwner() == session && !json.equals(g.data())) {
          client.setData(layout.member(me), memberJson, -1, s -> { });
        }
      });
    });
  }

  @Override
  public CompletionStage<Void> renewSession(long sessionTimeoutMs) {
    SimZkClient old = client;
    if (!old.connected()) return CompletableFuture.failedFuture(new IllegalStateException("not connected"));
    SimZkClient fresh = newClient((int) sessionTimeoutMs);
    CompletableFuture<Void> done = new CompletableFuture<>();
    client = fresh;
    fresh.start();
    if (!fresh.connected()) {
      client = old;
      return CompletableFuture.failedFuture(new IllegalStateException("no new session"));
    }
    server.transferEphemerals(old.sessionId(), fresh.sessionId());
    old.close();
    sched.log(me + " zk session renewed with timeout " + fresh.negotiatedTimeoutMs());
    clock.deliver(() -> {
      refresh();
      onHealth.accept(health());
      done.complete(null);
    });
    return done;
  }

  @Override
  public CompletionStage<String> existingMemberApiUrl(String name) {
    long session = client.sessionId();
    return call(cb -> client.getData(layout.member(name), false, cb)).thenApply(r -> {
      if (r.code() == Code.NONODE) return null;
      if (r.code() != Code.OK) throw error("read member", r);
      if (r.stat().ephemeralOwner() == session) return null;
      try {
        JsonNode n = JSON.readTree(r.data());
        return n.path("api_url").asText(null);
      } catch (Exception e) {
        return null;
      }
    });
  }

  @Override
  public void close() {
    closed = true;
    if (client.connected()) {
      SimZkClient c = client;
      c.delete(layout.member(me), -1, r -> c.close());
    } else {
      client.close();
    }
  }

  /** The agent process died: its session is left to expire at the server. */
  public void abandon() {
    closed = true;
    client.abandon();
  }

  /** Members' keys of this view, for traces. */
  public List<String> memberNames() {
    return view == null ? List.of() : new ArrayList<>(view.members().keySet());
  }
}
