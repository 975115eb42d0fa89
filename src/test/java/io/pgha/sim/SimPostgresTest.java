package io.pgha.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.decision.TimelineHistory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SimPostgresTest {
  final SimScheduler sched = new SimScheduler(7, 10_000);
  final Map<String, SimPostgres> pgs = new LinkedHashMap<>();
  final SimPostgres a = pg("a");
  final SimPostgres b = pg("b");
  final SimPostgres c = pg("c");

  SimPostgres pg(String name) {
    SimPostgres p = new SimPostgres(sched, name, pgs::get, 100, 20);
    pgs.put(name, p);
    return p;
  }

  void run(long ms) {
    sched.runUntil(sched.nowMs() + ms, 1_000_000);
  }

  /** a primary, b and c standbys of a, streaming. */
  void threeStreaming() {
    a.initdb();
    a.start(false, null, ok -> { });
    run(200);
    b.cloneFrom("a");
    c.cloneFrom("a");
    b.start(true, "a", ok -> { });
    c.start(true, "a", ok -> { });
    run(300);
  }

  @Test
  void standbysStreamFromTheirUpstream() {
    threeStreaming();
    assertThat(a.writable()).isTrue();
    for (int i = 0; i < 10; i++) assertThat(a.commit((l, s) -> { })).isTrue();
    run(100);
    assertThat(b.streaming()).isTrue();
    assertThat(b.lsn()).isEqualTo(a.lsn());
    assertThat(b.writable()).isFalse();
    assertThat(b.commit((l, s) -> { })).isFalse();
  }

  @Test
  void promotionForksANewTimelineWithAHistory() {
    threeStreaming();
    a.commit((l, s) -> { });
    run(100);
    long forkAt = b.lsn();
    a.crash("test");
    List<Boolean> done = new ArrayList<>();
    b.promote(done::add);
    run(300);
    assertThat(done).containsExactly(true);
    assertThat(b.writable()).isTrue();
    assertThat(b.timeline()).isEqualTo(2);
    List<TimelineHistory.Entry> h = TimelineHistory.parse(b.wal().historyText());
    assertThat(h).containsExactly(new TimelineHistory.Entry(1, forkAt));
    c.follow("b");
    run(100);
    assertThat(c.streaming()).isTrue();
    assertThat(c.timeline()).isEqualTo(2);
  }

  @Test
  void aFormerPrimaryThatWroteOnDivergesAndStreamsOnlyAfterARewind() {
    threeStreaming();
    run(100);
    // b is promoted while a still takes writes (the split the guard prevents)
    b.promote(ok -> { });
    run(300);
    a.commit((l, s) -> { });
    a.commit((l, s) -> { });
    assertThat(a.wal().prefixOf(b.wal())).isFalse();
    assertThat(TimelineHistory.replicaMustRewind(a.timeline(), a.lsn(), b.timeline(),
        TimelineHistory.parse(b.wal().historyText()))).isTrue();
    a.stop(SimPostgres.StopMode.FAST, ok -> { });
    run(300);
    a.start(true, "b", ok -> { });
    run(500);
    assertThat(a.running()).isTrue();
    assertThat(a.streaming()).isFalse(); // a diverged replica never catches up by itself
    a.stop(SimPostgres.StopMode.FAST, ok -> { });
    run(300);
    assertThat(a.rewind("b")).isTrue();
    a.start(true, "b", ok -> { });
    run(500);
    assertThat(a.streaming()).isTrue();
    assertThat(a.wal().prefixOf(b.wal())).isTrue();
  }

  @Test
  void rewindNeedsACleanShutdownAndASharedHistory() {
    threeStreaming();
    c.crash("test");
    assertThat(c.cleanShutdown()).isFalse();
    assertThat(c.rewind("a")).isFalse();
    c.crashRecovery();
    assertThat(c.rewind("a")).isTrue();
    SimPostgres stranger = pg("x");
    stranger.initdb();
    assertThat(stranger.rewind("a")).isFalse();
  }

  @Test
  void aSynchronousCommitIsAcknowledgedOnlyOnceASyncStandbyHoldsIt() {
    threeStreaming();
    a.setSyncStandbys(Set.of("b"));
    List<String> acks = new ArrayList<>();
    b.stop(SimPostgres.StopMode.IMMEDIATE, ok -> { });
    run(10);
    assertThat(a.commit((l, s) -> acks.add(l + ":" + s))).isTrue();
    run(500);
    assertThat(acks).isEmpty(); // c has it, but c is not synchronous
    assertThat(c.lsn()).isEqualTo(a.lsn());
    b.start(true, "a", ok -> { });
    run(500);
    assertThat(acks).containsExactly(a.lsn() + ":true");
  }

  @Test
  void pendingCommitsAreNeverAcknowledgedWhenThePrimaryGoesDown() {
    threeStreaming();
    a.setSyncStandbys(Set.of("b"));
    b.stop(SimPostgres.StopMode.IMMEDIATE, ok -> { });
    List<Long> acks = new ArrayList<>();
    a.commit((l, s) -> acks.add(l));
    a.crash("test");
    b.start(true, "a", ok -> { });
    run(500);
    assertThat(acks).isEmpty();
  }

  @Test
  void stopModes() {
    threeStreaming();
    a.stop(SimPostgres.StopMode.FAST, ok -> { });
    assertThat(a.writable()).isFalse(); // no new connections once a fast stop begins
    run(300);
    assertThat(a.run()).isEqualTo(SimPostgres.Run.STOPPED);
    assertThat(a.cleanShutdown()).isTrue();
    b.stop(SimPostgres.StopMode.IMMEDIATE, ok -> { });
    assertThat(b.cleanShutdown()).isFalse();
  }
}
