package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.decision.Failsafe;
import io.pgha.decision.LocalState;
import io.pgha.postgres.SlotNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Failsafe mode's I/O (patroni-compat §10.2; the rules and their timing argument are in {@link Failsafe}): the
 * leader's rounds of {@code POST /failsafe} when it cannot prove its key, the {@code failsafe} key it writes, and a
 * replica's side, the lease it grants a primary. State kept here is the driver's: what it wrote and when it last
 * asked; the outcome of a round goes into {@link LocalState}, where the core decides on it.
 */
public final class FailsafeDuties {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The answer to a {@code POST /failsafe}, with our WAL position for the {@code lsn} header. */
  public record Reply(int status, String message, long lsn) {}

  private final HaLoop loop;
  /** Values of {@code failsafe} we wrote (or tried to) that the view has not shown yet: one may have landed. */
  private final List<Map<String, String>> unseenWrites = new ArrayList<>();
  private long lastRoundSentMs;
  private boolean roundInFlight;
  private boolean takingKey;
  private String loggedRefusals;

  FailsafeDuties(HaLoop loop) {
    this.loop = loop;
  }

  // ---- leader side ----

  /**
   * Before each decision: a round of {@code POST /failsafe} when the core wants one (at most one per
   * min(loop_wait, ttl/3): the heartbeat runs a cycle every confirmation it misses). Its outcome goes into the local
   * state; an all-accepted round also pushes the fencing guard's deadline to the round's send time + ttl.
   */
  CompletableFuture<Void> roundIfWanted() {
    return round(false);
  }

  /**
   * A confirmation of the key has gone unanswered for a heartbeat period: ask the listed members now rather than
   * when the request times out (2 s) and the next cycle runs. With a session of ttl - 2 ticks the guard leaves only a
   * few seconds after the last proof; a round started this early is done well before.
   */
  void keyUnanswered() {
    if (roundInFlight) return;
    round(true).whenComplete((v, e) -> {
      if (e != null) LOG.warn("failsafe: early round failed: {}", Async.message(e));
    });
  }

  private CompletableFuture<Void> round(boolean suspect) {
    LocalState local = loop.local();
    var view = loop.view();
    var cfg = loop.dynamic();
    long now = loop.clock.monotonicMs();
    forgetSeenWrites();
    // proven by a request sent after our last round: ZooKeeper answers again, the session covers us
    boolean proven = !suspect && Failsafe.keyProven(view, local, cfg, now) && local.lockConfirmedAtMs() > lastRoundSentMs;
    if (!local.isRunningPrimary() || proven) {
      // the key is proven again (or we no longer write): the session covers us, as before the outage
      if (local.failsafeUntilMs() != 0 || local.failsafeRoundFailed()) {
        if (local.isRunningPrimary()) LOG.info("failsafe: leader key proven again, failsafe mode no longer active");
        loop.local(local.toBuilder().failsafeUntilMs(0).failsafeRoundFailed(false).build());
      }
      if (!local.isRunningPrimary()) unseenWrites.clear();
      return Async.done();
    }
    if (roundInFlight) return Async.done();
    LocalState asked = suspect ? local.toBuilder().dcsConnected(false).build() : local;
    if (!Failsafe.roundWanted(view, asked, cfg, now)) return Async.done();
    long everyMs = Math.max(500, Math.min(cfg.loopWaitSeconds() * 1000L, cfg.ttlSeconds() * 1000L / 3));
    if (lastRoundSentMs > 0 && now - lastRoundSentMs < everyMs) return Async.done();
    Map<String, String> maybeWritten = new TreeMap<>();
    unseenWrites.forEach(maybeWritten::putAll);
    Map<String, String> targets = Failsafe.targets(view, maybeWritten, loop.me());
    if (targets == null) {
      roundDone(now, false, "the failsafe key is missing, garbage, or does not list " + loop.me());
      return Async.done();
    }
    long sentAt = loop.clock.monotonicMs(); // the cover runs from the moment the requests are sent
    lastRoundSentMs = sentAt;
    if (targets.isEmpty()) {
      roundDone(sentAt, true, null); // the key lists only me: a single-node cluster
      return Async.done();
    }
    roundInFlight = true;
    return Async.of(loop.peers.postFailsafe(targets, body())).handle((answers, e) -> {
      roundInFlight = false;
      List<String> refused = new ArrayList<>();
      for (String name : targets.keySet()) {
        if (e != null || answers == null || !Boolean.TRUE.equals(answers.get(name))) refused.add(name);
      }
      roundDone(sentAt, refused.isEmpty(), refused.isEmpty() ? null : "no Accepted from " + refused);
      return null;
    });
  }

  private void roundDone(long sentAt, boolean allAccepted, String why) {
    LocalState local = loop.local();
    if (allAccepted) {
      long until = sentAt + loop.dynamic().ttlSeconds() * 1000L;
      if (local.failsafeUntilMs() == 0 || local.failsafeRoundFailed()) {
        LOG.info("failsafe: every listed member accepted POST /failsafe: covered until {} ms from now",
            until - loop.clock.monotonicMs());
      }
      loggedRefusals = null;
      loop.local(local.toBuilder().failsafeUntilMs(Math.max(until, local.failsafeUntilMs()))
          .failsafeRoundFailed(false).build());
      loop.updateGuard("failsafe round accepted");
    } else {
      if (!why.equals(loggedRefusals)) LOG.warn("failsafe: round failed: {}", why);
      loggedRefusals = why;
      loop.local(local.toBuilder().failsafeRoundFailed(true).build());
    }
  }

  /** Patroni's body: name, conn_url, api_url, slots (our own slot at our WAL position). */
  private String body() {
    ObjectNode body = JSON.createObjectNode();
    body.put("name", loop.me());
    body.put("conn_url", loop.config().postgresql().connUrl());
    body.put("api_url", loop.config().restapi().apiUrl());
    body.putObject("slots").put(SlotNames.forMember(loop.me()), loop.local().lsn());
    return body.toString();
  }

  /** The leader's duty: writes {@code failsafe}, remembering the value until the view shows it. */
  CompletableFuture<Void> writeKey(Map<String, String> topology) {
    unseenWrites.add(Map.copyOf(topology));
    return Async.of(loop.dcs.writeFailsafe(topology)).exceptionally(e -> {
      LOG.warn("cannot write the failsafe key: {}", Async.message(e));
      return null;
    });
  }

  /** We are the only writer and writes land in order: once the view shows our last value, the earlier ones are gone. */
  private void forgetSeenWrites() {
    var view = loop.view();
    if (unseenWrites.isEmpty() || view == null || view.failsafe() == null) return;
    if (view.failsafe().equals(unseenWrites.get(unseenWrites.size() - 1))) unseenWrites.clear();
  }

  /**
   * Every create of the leader key goes through here: none while a failsafe lease runs (a primary outside ZooKeeper
   * counts on us), and no lease is granted while the create is in flight ({@link #received}).
   */
  CompletionStage<Boolean> acquire(Supplier<CompletionStage<Boolean>> create) {
    if (Failsafe.leaseRuns(loop.local(), loop.dynamic(), loop.clock.monotonicMs())) {
      LOG.info("failsafe: not taking the leader key: {} is the leader for us until its failsafe lease ends",
          loop.local().failsafeLease().leader());
      return CompletableFuture.completedFuture(false);
    }
    takingKey = true;
    return Async.of(create.get()).whenComplete((won, e) -> {
      takingKey = false;
      if (Boolean.TRUE.equals(won)) loop.local(loop.local().toBuilder().failsafeLease(null).build());
    });
  }

  // ---- receiver side ----

  /** {@code POST /failsafe}: Patroni's answers; an accepted one makes the sender our leader for ttl. */
  Reply received(String name, String connUrl, String apiUrl) {
    boolean holdsOrTakes = takingKey || loop.view() != null && loop.view().leaderIsMe() && !loop.state().keyReleased();
    Failsafe.Answer answer = Failsafe.answer(loop.dynamic(), loop.local(), holdsOrTakes);
    long lsn = loop.local().lsn();
    if (!answer.accepted()) {
      LOG.info("failsafe: refused POST /failsafe from {}: {}", name, answer.message());
      return new Reply(answer.status(), answer.message(), lsn);
    }
    long now = loop.clock.monotonicMs();
    boolean fresh = !Failsafe.leaseRuns(loop.local(), loop.dynamic(), now)
        || !name.equals(loop.local().failsafeLease().leader());
    loop.local(loop.local().toBuilder().failsafeLease(new Failsafe.Lease(name, connUrl, apiUrl, now)).build());
    if (fresh) {
      LOG.info("failsafe: accepted POST /failsafe from {}: it is the leader for us for ttl whenever ZooKeeper shows"
          + " none", name);
      loop.publishStatus();
    }
    return new Reply(answer.status(), answer.message(), lsn);
  }

  /** Names in a topology, for logs. */
  static String names(Map<String, String> topology) {
    return String.join(",", new TreeSet<>(topology.keySet()));
  }
}
