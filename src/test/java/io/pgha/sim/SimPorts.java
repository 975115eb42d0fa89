package io.pgha.sim;

import io.pgha.decision.MemberRecord;
import io.pgha.decision.PeerStatus;
import io.pgha.guard.FencingGuard;
import io.pgha.model.NodeStatus;
import io.pgha.ha.port.Clock;
import io.pgha.ha.port.Fence;
import io.pgha.ha.port.Hooks;
import io.pgha.ha.port.Peers;
import io.pgha.ha.port.Reporter;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** The small ports of one simulated agent: clock, peers, fence, reporter, hooks. */
final class SimPorts {
  private SimPorts() {}

  /** {@link Clock} over the member's drifting {@link SimClock}; timers pass the agent's freeze gate. */
  static final class ClockPort implements Clock {
    private final SimClock clock;

    ClockPort(SimClock clock) {
      this.clock = clock;
    }

    @Override
    public long monotonicMs() {
      return clock.monotonicMs();
    }

    @Override
    public long wallMs() {
      return clock.wallMs();
    }

    @Override
    public Timer after(long delayMs, Runnable task) {
      SimClock.Timer t = clock.after(Math.max(1, delayMs), null, task);
      return t::cancel;
    }
  }

  /**
   * {@link Peers}: a peer's {@code /patroni} answers what its postgres is, if its agent runs (a frozen or dead agent's
   * REST API does not answer: the probe times out).
   */
  static final class PeersPort implements Peers {
    static final long PROBE_TIMEOUT_MS = 2000;
    private final SimScheduler sched;
    private final SimClock clock;
    private final Function<String, SimMember> members;
    private final int gen;
    private final String me;

    PeersPort(SimScheduler sched, SimClock clock, Function<String, SimMember> members, String me) {
      this.sched = sched;
      this.clock = clock;
      this.members = members;
      this.gen = clock.generation();
      this.me = me;
    }

    static boolean answers(SimMember m) {
      return m != null && m.agentAlive() && !m.clock().frozen();
    }

    @Override
    public CompletionStage<Map<String, PeerStatus>> probe(Collection<MemberRecord> peers) {
      List<String> names = new ArrayList<>();
      for (MemberRecord r : peers) names.add(r.name());
      boolean allAnswer = names.stream().allMatch(n -> answers(members.apply(n)));
      long delay = allAnswer ? sched.delay(2, 20) : PROBE_TIMEOUT_MS;
      CompletableFuture<Map<String, PeerStatus>> f = new CompletableFuture<>();
      // each peer is read when its answer would be sent: half way
      Map<String, PeerStatus> out = new LinkedHashMap<>();
      sched.after(Math.max(1, Math.min(delay, 10)), null, () -> {
        for (String n : names) {
          SimMember m = members.apply(n);
          if (!answers(m)) {
            out.put(n, PeerStatus.unreachable(n));
            continue;
          }
          SimPostgres pg = m.pg();
          boolean running = pg.running();
          out.put(n, new PeerStatus(n, true, running && !pg.inRecovery(), running || pg.hasData() ? pg.lsn() : 0,
              pg.timeline(), false, 1));
        }
      });
      sched.after(delay, null, () -> clock.deliver(gen, () -> f.complete(out)));
      return f;
    }

    /**
     * §10.2: each listed member's agent handles the POST a moment after it was sent (never before), if it runs and
     * is not frozen; the answers come back together, or after the 2 s timeout when one does not answer.
     */
    @Override
    public CompletionStage<Map<String, Boolean>> postFailsafe(Map<String, String> apiUrls, String body) {
      List<String> names = new ArrayList<>(apiUrls.keySet());
      boolean allAnswer = names.stream().allMatch(n -> answers(members.apply(n)));
      long delay = allAnswer ? sched.delay(2, 20) : PROBE_TIMEOUT_MS;
      CompletableFuture<Map<String, Boolean>> f = new CompletableFuture<>();
      Map<String, Boolean> out = new java.util.TreeMap<>();
      sched.after(Math.max(1, Math.min(delay, 10)), null, () -> {
        for (String n : names) {
          SimMember m = members.apply(n);
          boolean accepted = false;
          if (answers(m) && m.agent() instanceof SimAgent a && a.loop() != null) {
            accepted = a.loop().failsafePost(me, "postgres://" + me + ":5432/postgres",
                "http://" + me + ":8008/patroni").status() == 200;
          }
          out.put(n, accepted);
        }
      });
      sched.after(delay, null, () -> clock.deliver(gen, () -> f.complete(out)));
      return f;
    }

    @Override
    public CompletionStage<Boolean> answers(String apiUrl) {
      String host = URI.create(apiUrl).getHost();
      // our own name: the process that held it before is dead (the simulation never runs two agents of one name)
      boolean alive = !me.equals(host) && answers(members.apply(host));
      CompletableFuture<Boolean> f = new CompletableFuture<>();
      sched.after(alive ? sched.delay(1, 10) : PROBE_TIMEOUT_MS, null, () -> clock.deliver(gen, () -> f.complete(
          alive && answers(members.apply(host)))));
      return f;
    }

    @Override
    public void close() {}
  }

  /**
   * {@link Fence} over the member's {@link SimGuard}, with the production rules of {@link FencingGuard#step}: push the
   * deadline (last proof of the key + session timeout - margin, on this machine's clock) while leading, disarm where
   * no writable postgres runs, keep the last deadline otherwise.
   */
  static final class FencePort implements Fence {
    private final SimScheduler sched;
    private final SimClock clock;
    private final SimGuard guard;
    private final SimPostgres pg;

    FencePort(SimScheduler sched, SimClock clock, SimGuard guard, SimPostgres pg) {
      this.sched = sched;
      this.clock = clock;
      this.guard = guard;
      this.pg = pg;
    }

    @Override
    public void start() {}

    @Override
    public void update(FencingGuard.Situation s, String why) {
      switch (FencingGuard.step(s)) {
        case PUSH -> {
          if (s.postmasterPid() != pg.pid()) return; // the guard refuses a postmaster that is gone
          boolean was = guard.armed();
          long remaining = FencingGuard.remainingMs(s, clock.monotonicMs());
          if (guard.arm(remaining) && !was) sched.log(clock.name() + " guard armed: " + remaining + " ms");
        }
        case DISARM -> disarm(why);
        case KEEP -> { }
      }
    }

    @Override
    public void disarm(String why) {
      if (guard.armed()) sched.log(clock.name() + " guard disarmed: " + why);
      guard.disarm();
    }

    @Override
    public boolean watchdogFailed() {
      return false;
    }

    @Override
    public void countFires(String when) {}

    @Override
    public void close() {}
  }

  /** {@link Reporter}: decision lines go to the run's trace; a fatal exit kills the agent process. */
  static final class ReporterPort implements Reporter {
    private final SimScheduler sched;
    private final SimMember member;
    private NodeStatus status;

    ReporterPort(SimScheduler sched, SimMember member) {
      this.sched = sched;
      this.member = member;
    }

    @Override
    public void decided(String line) {
      sched.log(member.name() + " " + line);
    }

    @Override
    public void status(NodeStatus s) {
      status = s;
    }

    NodeStatus lastStatus() {
      return status;
    }

    @Override
    public void fatal(String why) {
      sched.log(member.name() + " agent exits: " + why);
      sched.after(0, null, member::killAgent);
    }
  }

  /** {@link Hooks}: callbacks are not run in the simulation; pre_promote and before_stop are not configured. */
  static final class HooksPort implements Hooks {
    @Override
    public void fire(String action, String role) {}

    @Override
    public CompletionStage<Boolean> prePromote(long limitMs) {
      return CompletableFuture.completedFuture(true);
    }

    @Override
    public CompletionStage<Void> beforeStop(long limitMs) {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> close() {
      return CompletableFuture.completedFuture(null);
    }
  }
}
