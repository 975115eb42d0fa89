package io.pgha.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.sim.SimZkClient.State;
import io.pgha.sim.SimZooKeeper.Code;
import io.pgha.sim.SimZooKeeper.Result;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimZooKeeperTest {
  final SimScheduler sched = new SimScheduler(42, 10_000);
  final SimZooKeeper zk = new SimZooKeeper(sched, 2000, 50);
  final SimClock clock = new SimClock(sched, "pg1", 0, 5_000_000);
  final List<State> states = new ArrayList<>();

  SimZkClient client(String member, SimClock c, int timeoutMs) {
    SimZkClient z = new SimZkClient(zk, c, member, timeoutMs, 20);
    z.onStateChange(states::add);
    z.start();
    return z;
  }

  Result call(java.util.function.Consumer<java.util.function.Consumer<Result>> op) {
    Result[] out = new Result[1];
    op.accept(r -> out[0] = r);
    sched.runUntil(sched.nowMs() + 1000, 100_000);
    return out[0];
  }

  @Test
  void negotiatedTimeoutIsClampedToTwoAndTwentyTicks() {
    assertThat(zk.negotiate(1000)).isEqualTo(4000);
    assertThat(zk.negotiate(30_000)).isEqualTo(30_000);
    assertThat(zk.negotiate(100_000)).isEqualTo(40_000);
  }

  @Test
  void expiryIsRoundedUpToTheNextTick() {
    assertThat(zk.roundToNextInterval(0)).isEqualTo(2000);
    assertThat(zk.roundToNextInterval(1999)).isEqualTo(2000);
    assertThat(zk.roundToNextInterval(2000)).isEqualTo(4000);
  }

  @Test
  void aDeadClientsEphemeralNodeGoesAtTheTickAfterItsTimeout() {
    SimZkClient c = client("pg1", clock, 10_000);
    assertThat(call(cb -> c.create("/s/leader", "pg1", true, cb)).code()).isEqualTo(Code.OK);
    sched.runUntil(3_333, 100_000);
    c.abandon(); // SIGKILL: no more pings
    long lastTouch = sched.nowMs();
    long expiry = zk.expiresAtMs(c.sessionId());
    assertThat(expiry % 2000).isZero();
    // the last ping was at most a third of the timeout before the kill
    assertThat(expiry).isBetween(lastTouch + 10_000 - 10_000 / 3, lastTouch + 10_000 + 2000);
    sched.runUntil(expiry - 1, 100_000);
    assertThat(zk.peek("/s/leader").code()).isEqualTo(Code.OK);
    sched.runUntil(expiry, 100_000);
    assertThat(zk.peek("/s/leader").code()).isEqualTo(Code.NONODE);
  }

  @Test
  void aPartitionedClientSuspendsAtOnceAndDeclaresLostByItsOwnClock() {
    SimZkClient c = client("pg1", clock, 9_000);
    call(cb -> c.create("/s/leader", "pg1", true, cb));
    long session = c.sessionId();
    zk.partition("pg1");
    long cut = sched.nowMs();
    sched.runUntil(cut + 9_000, 100_000);
    assertThat(states).contains(State.SUSPENDED);
    assertThat(c.connected()).isFalse();
    // a request while cut off fails with connection loss
    assertThat(call(cb -> c.getData("/s/leader", false, cb)).code()).isEqualTo(Code.CONNECTIONLOSS);
    sched.runUntil(cut + 25_000, 100_000);
    assertThat(zk.sessionAlive(session)).isFalse();
    assertThat(zk.peek("/s/leader").code()).isEqualTo(Code.NONODE);
    assertThat(states.get(states.size() - 1)).isEqualTo(State.LOST);
    zk.heal("pg1");
    sched.runUntil(sched.nowMs() + 5_000, 100_000);
    assertThat(c.connected()).isTrue();
    assertThat(c.sessionId()).isNotEqualTo(session);
  }

  @Test
  void aShortPartitionReconnectsTheSameSession() {
    SimZkClient c = client("pg1", clock, 30_000);
    call(cb -> c.create("/s/leader", "pg1", true, cb));
    long session = c.sessionId();
    zk.partition("pg1");
    sched.runUntil(sched.nowMs() + 25_000, 100_000);
    assertThat(states).contains(State.SUSPENDED);
    zk.heal("pg1");
    sched.runUntil(sched.nowMs() + 11_000, 100_000);
    assertThat(states.get(states.size() - 1)).isEqualTo(State.RECONNECTED);
    assertThat(c.sessionId()).isEqualTo(session);
    assertThat(zk.peek("/s/leader").data()).isEqualTo("pg1");
  }

  @Test
  void aFrozenAgentsSessionExpiresAndItHearsOfItWhenItThaws() {
    SimZkClient c = client("pg1", clock, 10_000);
    call(cb -> c.create("/s/leader", "pg1", true, cb));
    long session = c.sessionId();
    clock.freeze();
    sched.runUntil(sched.nowMs() + 20_000, 100_000);
    assertThat(zk.sessionAlive(session)).isFalse();
    assertThat(c.connected()).isTrue(); // it does not know yet
    clock.thaw();
    sched.runUntil(sched.nowMs() + 10, 100_000);
    assertThat(states).contains(State.LOST);
    assertThat(c.sessionId()).isNotEqualTo(session);
  }

  @Test
  void noSessionExpiresDuringAnOutageAndEveryOneGetsItsFullTimeoutAfter() {
    SimZkClient c = client("pg1", clock, 10_000);
    call(cb -> c.create("/s/leader", "pg1", true, cb));
    long session = c.sessionId();
    zk.outage();
    sched.runUntil(sched.nowMs() + 30_000, 100_000);
    assertThat(zk.sessionAlive(session)).isTrue();
    assertThat(c.state()).isEqualTo(State.LOST); // Curator's own clock
    zk.recover();
    assertThat(zk.expiresAtMs(session)).isGreaterThanOrEqualTo(sched.nowMs() + 10_000);
    sched.runUntil(sched.nowMs() + 15_000, 100_000);
    assertThat(zk.sessionAlive(session)).isFalse(); // its client gave it up and opened a new one
    assertThat(c.connected()).isTrue();
  }

  @Test
  void versionsAndOneShotWatches() {
    SimZkClient c = client("pg1", clock, 10_000);
    List<String> fired = new ArrayList<>();
    c.onWatch(fired::add);
    assertThat(call(cb -> c.create("/s/sync", "{}", false, cb)).code()).isEqualTo(Code.OK);
    Result r = call(cb -> c.getData("/s/sync", true, cb));
    assertThat(r.stat().version()).isZero();
    assertThat(call(cb -> c.setData("/s/sync", "a", 0, cb)).code()).isEqualTo(Code.OK);
    assertThat(call(cb -> c.setData("/s/sync", "b", 0, cb)).code()).isEqualTo(Code.BADVERSION);
    assertThat(call(cb -> c.setData("/s/sync", "b", 1, cb)).code()).isEqualTo(Code.OK);
    assertThat(fired).containsExactly("/s/sync"); // one-shot: the second change fires nothing
    assertThat(call(cb -> c.getChildren("/s", true, cb)).children()).containsExactly("sync");
    assertThat(call(cb -> c.delete("/s/sync", 7, cb)).code()).isEqualTo(Code.BADVERSION);
    assertThat(call(cb -> c.delete("/s/sync", -1, cb)).code()).isEqualTo(Code.OK);
    assertThat(fired).containsExactly("/s/sync", "/s");
  }

  @Test
  void watchEventsWaitForTheReconnect() {
    SimClock other = new SimClock(sched, "pg2", 0, 7_000_000);
    SimZkClient c = client("pg1", clock, 30_000);
    SimZkClient writer = client("pg2", other, 30_000);
    List<String> fired = new ArrayList<>();
    c.onWatch(fired::add);
    call(cb -> writer.create("/s/leader", "pg2", true, cb));
    call(cb -> c.getData("/s/leader", true, cb));
    zk.partition("pg1");
    sched.runUntil(sched.nowMs() + 20_000, 100_000);
    call(cb -> writer.setData("/s/leader", "x", -1, cb));
    sched.runUntil(sched.nowMs() + 5_000, 100_000);
    assertThat(fired).isEmpty();
    zk.heal("pg1");
    sched.runUntil(sched.nowMs() + 11_000, 100_000);
    assertThat(fired).containsExactly("/s/leader");
  }

  @Test
  void ephemeralOwnerIsTheCreatingSession() {
    SimZkClient c = client("pg1", clock, 10_000);
    call(cb -> c.create("/s/members/pg1", "{}", true, cb));
    assertThat(zk.peek("/s/members/pg1").stat().ephemeralOwner()).isEqualTo(c.sessionId());
    assertThat(zk.children("/s/members")).containsExactly("pg1");
    c.close();
    assertThat(zk.peek("/s/members/pg1").code()).isEqualTo(Code.NONODE);
  }
}
