package io.pgha.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.dcs.DcsHealth;
import io.pgha.decision.ClusterView;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** The Dcs port of the simulation over the ZooKeeper model: views through the production ViewParser. */
class SimDcsTest {
  final SimScheduler sched = new SimScheduler(11, 10_000);
  final SimZooKeeper zk = new SimZooKeeper(sched, 2000, 50);
  final SimClock clock1 = new SimClock(sched, "pg1", 0, 1_000_000);
  final SimClock clock2 = new SimClock(sched, "pg2", 0, 2_000_000);
  final SimDcs pg1 = new SimDcs(zk, clock1, "pg1", "/service/sim", 10_000, 20);
  final SimDcs pg2 = new SimDcs(zk, clock2, "pg2", "/service/sim", 10_000, 20);
  final List<ClusterView> views2 = new ArrayList<>();
  final List<DcsHealth> health1 = new ArrayList<>();

  <T> T await(CompletionStage<T> stage) {
    CompletableFuture<T> f = stage.toCompletableFuture();
    sched.runUntil(sched.nowMs() + 3000, 1_000_000);
    assertThat(f).isDone();
    return f.join();
  }

  void run(long ms) {
    sched.runUntil(sched.nowMs() + ms, 1_000_000);
  }

  @Test
  void theLeaderKeyAndMembersAsTheLoopSeesThem() {
    pg1.sinks(v -> { }, health1::add);
    pg2.sinks(views2::add, h -> { });
    await(pg1.start());
    await(pg2.start());
    pg1.publishMember("{\"conn_url\":\"postgres://pg1:5432/postgres\",\"api_url\":\"http://pg1:8008/patroni\","
        + "\"state\":\"running\",\"role\":\"primary\"}");
    long before = clock1.monotonicMs();
    assertThat(await(pg1.acquireLeader())).isTrue();
    assertThat(pg1.health().lockConfirmedAtMs()).isEqualTo(before);
    assertThat(await(pg2.acquireLeader())).isFalse();
    assertThat(await(pg1.writeSync("pg1", Set.of("pg2"), -1))).isTrue();
    assertThat(await(pg1.writeSync("pg1", Set.of(), 5))).isFalse(); // compare-and-set on the version
    run(500);
    assertThat(pg1.view().leaderIsMe()).isTrue();
    ClusterView v = views2.get(views2.size() - 1);
    assertThat(v.leader()).isEqualTo("pg1");
    assertThat(v.leaderIsMe()).isFalse();
    assertThat(v.members()).containsKey("pg1");
    assertThat(v.members().get("pg1").connUrl()).isEqualTo("postgres://pg1:5432/postgres");
    assertThat(v.sync().standbys()).containsExactly("pg2");
    assertThat(await(pg2.existingMemberApiUrl("pg1"))).isEqualTo("http://pg1:8008/patroni");
    assertThat(await(pg2.confirmLeader())).isFalse();
    assertThat(await(pg1.confirmLeader())).isTrue();
    await(pg2.releaseLeader()); // not its key: nothing happens
    assertThat(zk.peek("/service/sim/leader").data()).isEqualTo("pg1");
    await(pg1.releaseLeader());
    run(500);
    assertThat(views2.get(views2.size() - 1).hasLeader()).isFalse();
  }

  @Test
  void afterASessionLossTheMemberKeyComesBackUnderTheNewSession() {
    pg1.sinks(v -> { }, health1::add);
    await(pg1.start());
    pg1.publishMember("{\"state\":\"running\"}");
    run(500);
    long first = pg1.client().sessionId();
    assertThat(zk.peek("/service/sim/members/pg1").stat().ephemeralOwner()).isEqualTo(first);
    zk.partition("pg1");
    run(25_000);
    assertThat(health1).anyMatch(h -> !h.connected());
    zk.heal("pg1");
    run(5_000);
    assertThat(pg1.health().connected()).isTrue();
    assertThat(pg1.client().sessionId()).isNotEqualTo(first);
    assertThat(zk.peek("/service/sim/members/pg1").stat().ephemeralOwner()).isEqualTo(pg1.client().sessionId());
  }

  @Test
  void aRequestThatGetsNoAnswerFailsAfterTheDeadline() {
    await(pg1.start());
    zk.outage(); // the client notices only after its read timeout (2/3 of 10 s); ZooKeeperDcs gives up after 2 s
    CompletableFuture<Boolean> f = pg1.confirmLeader().toCompletableFuture();
    run(1_900);
    assertThat(f).isNotDone();
    run(200);
    assertThat(f).isCompletedExceptionally();
  }
}
