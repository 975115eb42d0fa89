package io.pgha.sim;

import io.pgha.sim.SimZooKeeper.Code;
import io.pgha.sim.SimZooKeeper.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One agent's ZooKeeper client, as Curator over ZooKeeper's client behaves. It lives in the agent's process: its
 * pings, callbacks and watch events pass the agent's {@link SimClock} gate, so a frozen agent stops pinging and its
 * session expires at the server while the agent sleeps.
 *
 * <ul>
 *   <li>Connected, it pings every third of the session timeout; each ping or request touches the session.
 *   <li>Cut off (its member partitioned, or the ensemble down), it notices when nothing was heard for the read
 *       timeout (two thirds of the session timeout, as {@code ClientCnxn}) and reports SUSPENDED; requests fail with
 *       CONNECTIONLOSS. It cannot hear of expiry while cut off: it declares LOST by its own clock once the session
 *       timeout has passed since SUSPENDED, as Curator's {@code ConnectionStateManager.checkSessionExpiration}.
 *   <li>Back in touch, it reconnects: RECONNECTED if the session still lives, else LOST (then a new session,
 *       reported as CONNECTED again, as Curator does after a LOST).
 *   <li>Watch events reach it after the server's seeded delay; while it is cut off they wait for the reconnect, and
 *       those of a lost session are dropped (the owner re-reads everything after LOST).
 * </ul>
 */
public final class SimZkClient {
  public enum State { CONNECTED, SUSPENDED, RECONNECTED, LOST }

  private final SimZooKeeper server;
  private final SimScheduler sched;
  private final SimClock clock;
  private final String member;
  private final int requestedTimeoutMs;
  private final long latencyMaxMs;
  private Consumer<State> onState = s -> { };
  private Consumer<String> onWatch = p -> { };
  private long sessionId;
  private int timeoutMs;
  private State state = State.LOST;
  private long lastHeardLocalMs;
  private long suspendedAtLocalMs;
  private boolean started;
  private boolean closed;
  private SimClock.Timer pinger;
  private final List<String> watchBacklog = new ArrayList<>();
  /** Requests sent into a dead link: they fail with CONNECTIONLOSS when the client notices (as ZooKeeper's do). */
  private final List<Runnable> unanswered = new ArrayList<>();

  public SimZkClient(SimZooKeeper server, SimClock clock, String member, int requestedTimeoutMs, long latencyMaxMs) {
    this.server = server;
    this.sched = server.scheduler();
    this.clock = clock;
    this.member = member;
    this.requestedTimeoutMs = requestedTimeoutMs;
    this.latencyMaxMs = latencyMaxMs;
  }

  public void onStateChange(Consumer<State> listener) {
    onState = listener;
  }

  public void onWatch(Consumer<String> listener) {
    onWatch = listener;
  }

  public State state() {
    return state;
  }

  public boolean connected() {
    return state == State.CONNECTED || state == State.RECONNECTED;
  }

  public long sessionId() {
    return sessionId;
  }

  public int negotiatedTimeoutMs() {
    return timeoutMs;
  }

  /** Opens the first session (or keeps trying: {@link #tick} retries while the server cannot be reached). */
  public void start() {
    started = true;
    closed = false;
    tryNewSession();
    schedulePing();
  }

  /** Closes the session at the server when reachable (a clean agent stop); the agent then drops the client. */
  public void close() {
    closed = true;
    if (pinger != null) pinger.cancel();
    if (sessionId != 0 && server.reachable(member)) server.closeSession(sessionId, "closed by " + member);
    state = State.LOST;
  }

  /** The agent process died: no more pings, nothing closed at the server (its session expires there). */
  public void abandon() {
    closed = true;
    if (pinger != null) pinger.cancel();
  }

  private void tryNewSession() {
    if (!server.reachable(member)) return;
    sessionId = server.openSession(requestedTimeoutMs);
    timeoutMs = server.sessionTimeoutMs(sessionId);
    lastHeardLocalMs = clock.monotonicMs();
    sched.log(member + " zk session 0x" + Long.toHexString(sessionId) + " timeout=" + timeoutMs);
    setState(State.CONNECTED);
    flushWatches();
  }

  private void schedulePing() {
    int timeout = timeoutMs > 0 ? timeoutMs : server.negotiate(requestedTimeoutMs);
    long period = Math.max(1, timeout / 3);
    if (state == State.SUSPENDED || state == State.LOST) {
      period = Math.min(period, 1000); // reconnect attempts come quickly
    } else if (!server.reachable(member)) {
      // silent link: the read timeout runs out exactly lastHeard + 2/3 timeout
      period = Math.max(1, Math.min(period, lastHeardLocalMs + readTimeoutMs() - clock.monotonicMs()));
    }
    pinger = clock.after(period, null, () -> {
      if (closed) return;
      tick();
      schedulePing();
    });
  }

  /** The client's heartbeat: ping when connected, notice a silent link, reconnect, or declare LOST. */
  void tick() {
    long now = clock.monotonicMs();
    boolean reach = server.reachable(member);
    if (!started || closed) return;
    if (sessionId == 0 || state == State.LOST) {
      tryNewSession();
      return;
    }
    if (connected()) {
      if (reach) {
        heard(server.touch(sessionId));
      } else if (now - lastHeardLocalMs >= readTimeoutMs()) {
        suspend(now);
      }
      return;
    }
    // SUSPENDED
    if (reach) {
      if (server.touch(sessionId)) {
        lastHeardLocalMs = now;
        setState(State.RECONNECTED);
        flushWatches();
      } else {
        lose("expired at the server");
        tryNewSession();
      }
    } else if (now - suspendedAtLocalMs >= timeoutMs) {
      lose("session timeout passed while suspended (client clock)");
    }
  }

  private long readTimeoutMs() {
    return timeoutMs * 2L / 3;
  }

  private void heard(boolean sessionAlive) {
    if (sessionAlive) {
      lastHeardLocalMs = clock.monotonicMs();
      failUnanswered();
      flushWatches();
    } else {
      lose("expired at the server");
      tryNewSession();
    }
  }

  private void suspend(long now) {
    suspendedAtLocalMs = now;
    setState(State.SUSPENDED);
    failUnanswered();
  }

  private void failUnanswered() {
    List<Runnable> due = List.copyOf(unanswered);
    unanswered.clear();
    for (Runnable r : due) r.run();
  }

  private void lose(String why) {
    sched.log(member + " zk LOST: " + why);
    failUnanswered();
    watchBacklog.clear();
    sessionId = 0;
    setState(State.LOST);
  }

  private void setState(State s) {
    state = s;
    onState.accept(s);
  }

  // ---- requests ----

  /** A request: sent if connected, applied at the server after half the latency, answered after the other half. */
  private void request(String what, java.util.function.LongFunction<Result> op, Consumer<Result> callback) {
    if (!connected()) {
      sched.after(1, null, () -> clock.deliver(() -> callback.accept(Result.of(Code.CONNECTIONLOSS))));
      return;
    }
    long session = sessionId;
    int gen = clock.generation();
    long half = sched.delay(1, Math.max(1, latencyMaxMs / 2));
    sched.after(half, null, () -> {
      if (!server.reachable(member)) {
        // nothing comes back: it fails when the client notices the dead link (its read timeout) and suspends
        unanswered.add(() -> clock.deliver(gen, () -> callback.accept(Result.of(Code.CONNECTIONLOSS))));
        return;
      }
      Result r = server.touch(session) ? op.apply(session) : Result.of(Code.SESSIONEXPIRED);
      sched.after(half, null, () -> clock.deliver(gen, () -> {
        if (r.code() == Code.SESSIONEXPIRED) {
          if (session == sessionId) {
            lose("request " + what + " answered SESSIONEXPIRED");
            tryNewSession();
          }
        } else if (session == sessionId) {
          lastHeardLocalMs = clock.monotonicMs();
        }
        callback.accept(r);
      }));
    });
  }

  public void create(String path, String data, boolean ephemeral, Consumer<Result> cb) {
    request("create " + path, s -> server.create(s, path, data, ephemeral), cb);
  }

  public void setData(String path, String data, int version, Consumer<Result> cb) {
    request("set " + path, s -> server.setData(path, data, version), cb);
  }

  public void delete(String path, int version, Consumer<Result> cb) {
    request("delete " + path, s -> server.delete(path, version), cb);
  }

  public void getData(String path, boolean watch, Consumer<Result> cb) {
    request("get " + path, s -> server.getData(watch ? this : null, path), cb);
  }

  public void getChildren(String path, boolean watch, Consumer<Result> cb) {
    request("children " + path, s -> server.getChildren(watch ? this : null, path), cb);
  }

  // ---- watches ----

  void watchFired(String path) {
    if (closed) return;
    if (!connected() || !server.reachable(member)) {
      if (!watchBacklog.contains(path)) watchBacklog.add(path);
      return;
    }
    clock.deliver(() -> onWatch.accept(path));
  }

  private void flushWatches() {
    List<String> due = List.copyOf(watchBacklog);
    watchBacklog.clear();
    for (String p : due) clock.deliver(() -> onWatch.accept(p));
  }
}
