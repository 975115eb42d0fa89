package io.pgha.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The ZooKeeper ensemble as one server: znodes with versions and ephemeral owners, sessions that the server expires in
 * tick buckets as ZooKeeper's {@code ExpiryQueue} does, one-shot watches, and a whole-ensemble outage. Clients
 * ({@link SimZkClient}) reach it unless their member is partitioned from it or the ensemble is down.
 *
 * <p>Session expiry follows {@code SessionTrackerImpl}/{@code ExpiryQueue}: each touch (request or ping) moves the
 * session to the bucket {@code roundToNextInterval(now + timeout)} = {@code (t / tick + 1) * tick}, and the expirer
 * wakes at each bucket's time and expires what is still in it. A negotiated timeout is clamped to
 * [2, 20] x tickTime. After an outage the new quorum leader gives every session its full timeout again.
 */
public final class SimZooKeeper {
  public enum Code { OK, NODEEXISTS, NONODE, BADVERSION, NOTEMPTY, CONNECTIONLOSS, SESSIONEXPIRED }

  /** What a znode request sees: version and ephemeral owner (0: persistent). */
  public record Stat(int version, long ephemeralOwner) {}

  /** A request's outcome; {@code data}/{@code stat} for reads, {@code children} for getChildren. */
  public record Result(Code code, String data, Stat stat, List<String> children) {
    static Result of(Code c) {
      return new Result(c, null, null, List.of());
    }
  }

  static final class ZNode {
    String data;
    int version;
    final long ephemeralOwner;

    ZNode(String data, long ephemeralOwner) {
      this.data = data;
      this.ephemeralOwner = ephemeralOwner;
    }
  }

  static final class Session {
    final long id;
    final int timeoutMs;
    long expiresAtMs;
    boolean closed;

    Session(long id, int timeoutMs) {
      this.id = id;
      this.timeoutMs = timeoutMs;
    }
  }

  private final SimScheduler sched;
  private final int tickMs;
  private final long watchDelayMaxMs;
  private final TreeMap<String, ZNode> nodes = new TreeMap<>();
  private final TreeMap<Long, Session> sessions = new TreeMap<>();
  private final TreeMap<Long, LinkedHashSet<Long>> buckets = new TreeMap<>();
  private final Set<Long> bucketEvents = new TreeSet<>();
  private final Map<String, LinkedHashSet<SimZkClient>> dataWatches = new TreeMap<>();
  private final Map<String, LinkedHashSet<SimZkClient>> childWatches = new TreeMap<>();
  private final Set<String> partitioned = new TreeSet<>();
  private boolean up = true;
  private long nextSessionId = 0x1000;

  public SimZooKeeper(SimScheduler sched, int tickMs, long watchDelayMaxMs) {
    this.sched = sched;
    this.tickMs = tickMs;
    this.watchDelayMaxMs = watchDelayMaxMs;
    nodes.put("/", new ZNode("", 0));
  }

  public SimScheduler scheduler() {
    return sched;
  }

  public int tickMs() {
    return tickMs;
  }

  /** ZooKeeper's {@code ExpiryQueue.roundToNextInterval}. */
  public long roundToNextInterval(long timeMs) {
    return (timeMs / tickMs + 1) * tickMs;
  }

  public int negotiate(int requestedMs) {
    return Math.max(2 * tickMs, Math.min(20 * tickMs, requestedMs));
  }

  // ---- faults ----

  public boolean up() {
    return up;
  }

  /** The whole ensemble loses quorum: nothing is served and no session expires. */
  public void outage() {
    up = false;
    sched.log("zk ensemble down");
  }

  /** Quorum is back: a new leader gives every open session its full timeout from now. */
  public void recover() {
    if (up) return;
    up = true;
    sched.log("zk ensemble up");
    for (Session s : sessions.values()) {
      if (!s.closed) touch(s);
    }
  }

  public void partition(String member) {
    if (partitioned.add(member)) sched.log("zk partition " + member);
  }

  public void heal(String member) {
    if (partitioned.remove(member)) sched.log("zk heal " + member);
  }

  public void healAll() {
    for (String m : List.copyOf(partitioned)) heal(m);
    recover();
  }

  public boolean reachable(String member) {
    return up && !partitioned.contains(member);
  }

  // ---- sessions ----

  long openSession(int requestedMs) {
    Session s = new Session(nextSessionId++, negotiate(requestedMs));
    sessions.put(s.id, s);
    touch(s);
    return s.id;
  }

  public int sessionTimeoutMs(long sessionId) {
    Session s = sessions.get(sessionId);
    return s == null ? 0 : s.timeoutMs;
  }

  public boolean sessionAlive(long sessionId) {
    Session s = sessions.get(sessionId);
    return s != null && !s.closed;
  }

  /** The time at which the server expires this session unless touched again; -1 when closed. */
  public long expiresAtMs(long sessionId) {
    Session s = sessions.get(sessionId);
    return s == null || s.closed ? -1 : s.expiresAtMs;
  }

  /** A request or ping from the session reached the server: true while the session lives. */
  boolean touch(long sessionId) {
    Session s = sessions.get(sessionId);
    if (s == null || s.closed) return false;
    touch(s);
    return true;
  }

  private void touch(Session s) {
    long expiry = roundToNextInterval(sched.nowMs() + s.timeoutMs);
    if (expiry == s.expiresAtMs) return;
    LinkedHashSet<Long> old = buckets.get(s.expiresAtMs);
    if (old != null) old.remove(s.id);
    s.expiresAtMs = expiry;
    buckets.computeIfAbsent(expiry, k -> new LinkedHashSet<>()).add(s.id);
    if (bucketEvents.add(expiry)) sched.at(expiry, null, () -> expireBucket(expiry));
  }

  private void expireBucket(long bucketMs) {
    bucketEvents.remove(bucketMs);
    LinkedHashSet<Long> due = buckets.remove(bucketMs);
    if (due == null || due.isEmpty()) return;
    if (!up) {
      buckets.put(bucketMs, due); // kept for recover(), which touches every open session anyway
      return;
    }
    for (long id : due) closeSession(id, "expired");
  }

  /** Closes a session (expiry, or the client closing it): its ephemeral nodes go, watches fire. */
  void closeSession(long id, String why) {
    Session s = sessions.get(id);
    if (s == null || s.closed) return;
    s.closed = true;
    LinkedHashSet<Long> b = buckets.get(s.expiresAtMs);
    if (b != null) b.remove(id);
    sched.log("zk session 0x" + Long.toHexString(id) + " " + why);
    List<String> owned = new ArrayList<>();
    for (Map.Entry<String, ZNode> e : nodes.entrySet()) {
      if (e.getValue().ephemeralOwner == id) owned.add(e.getKey());
    }
    for (String path : owned) {
      nodes.remove(path);
      sched.log("zk ephemeral " + path + " deleted with its session");
      fireData(path);
      fireChildren(parent(path));
    }
  }

  // ---- operations (applied at the server; the client adds latency and reachability) ----

  Result create(long session, String path, String data, boolean ephemeral) {
    if (nodes.containsKey(path)) return Result.of(Code.NODEEXISTS);
    ensureParents(path);
    nodes.put(path, new ZNode(data, ephemeral ? session : 0));
    fireData(path);
    fireChildren(parent(path));
    return new Result(Code.OK, data, new Stat(0, ephemeral ? session : 0), List.of());
  }

  Result setData(String path, String data, int version) {
    ZNode n = nodes.get(path);
    if (n == null) return Result.of(Code.NONODE);
    if (version >= 0 && version != n.version) return Result.of(Code.BADVERSION);
    n.data = data;
    n.version++;
    fireData(path);
    return new Result(Code.OK, data, new Stat(n.version, n.ephemeralOwner), List.of());
  }

  Result delete(String path, int version) {
    ZNode n = nodes.get(path);
    if (n == null) return Result.of(Code.NONODE);
    if (version >= 0 && version != n.version) return Result.of(Code.BADVERSION);
    if (!children(path).isEmpty()) return Result.of(Code.NOTEMPTY);
    nodes.remove(path);
    fireData(path);
    fireChildren(parent(path));
    return Result.of(Code.OK);
  }

  Result getData(SimZkClient watcher, String path) {
    if (watcher != null) dataWatches.computeIfAbsent(path, k -> new LinkedHashSet<>()).add(watcher);
    ZNode n = nodes.get(path);
    if (n == null) return Result.of(Code.NONODE);
    return new Result(Code.OK, n.data, new Stat(n.version, n.ephemeralOwner), List.of());
  }

  Result getChildren(SimZkClient watcher, String path) {
    if (!nodes.containsKey(path)) return Result.of(Code.NONODE);
    if (watcher != null) childWatches.computeIfAbsent(path, k -> new LinkedHashSet<>()).add(watcher);
    return new Result(Code.OK, null, null, children(path));
  }

  /** A write by an administrative client (the REST API's own session, ctl): create or overwrite, no session. */
  public void adminPut(String path, String data) {
    if (!up) return;
    if (nodes.containsKey(path)) {
      setData(path, data, -1);
    } else {
      create(0, path, data, false);
    }
  }

  /**
   * Moves the ephemeral nodes of session {@code from} to session {@code to} (pgha's session renewal does it in one
   * transaction: delete and re-create each key under the new session).
   */
  void transferEphemerals(long from, long to) {
    for (Map.Entry<String, ZNode> e : List.copyOf(nodes.entrySet())) {
      ZNode n = e.getValue();
      if (n.ephemeralOwner != from) continue;
      ZNode moved = new ZNode(n.data, to);
      nodes.put(e.getKey(), moved);
      fireData(e.getKey());
    }
  }

  /** The server's own view of a node (for checkers and tests; no watch, no session touch). */
  public Result peek(String path) {
    return getData(null, path);
  }

  public List<String> children(String path) {
    String prefix = path.endsWith("/") ? path : path + "/";
    List<String> out = new ArrayList<>();
    for (String p : nodes.tailMap(prefix, false).keySet()) {
      if (!p.startsWith(prefix)) break;
      String rest = p.substring(prefix.length());
      if (!rest.isEmpty() && rest.indexOf('/') < 0) out.add(rest);
    }
    return out;
  }

  private void ensureParents(String path) {
    String p = parent(path);
    while (p != null && !nodes.containsKey(p)) {
      nodes.put(p, new ZNode("", 0));
      String child = p;
      p = parent(p);
      fireChildren(p);
      fireData(child);
    }
  }

  static String parent(String path) {
    int i = path.lastIndexOf('/');
    if (i < 0 || path.equals("/")) return null;
    return i == 0 ? "/" : path.substring(0, i);
  }

  private void fireData(String path) {
    fire(dataWatches.remove(path), path);
  }

  private void fireChildren(String path) {
    if (path != null) fire(childWatches.remove(path), path);
  }

  private void fire(LinkedHashSet<SimZkClient> watchers, String path) {
    if (watchers == null) return;
    for (SimZkClient c : watchers) {
      long delay = sched.delay(0, watchDelayMaxMs);
      sched.after(delay, null, () -> c.watchFired(path));
    }
  }

  /** Every znode and its data, in path order (for traces). */
  public Map<String, String> dump() {
    Map<String, String> out = new LinkedHashMap<>();
    nodes.forEach((p, n) -> out.put(p, n.data + (n.ephemeralOwner != 0 ? " [eph 0x"
        + Long.toHexString(n.ephemeralOwner) + "]" : "")));
    return out;
  }
}
