package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfigJson;
import io.pgha.decision.SyncPlanner.Standby;
import io.pgha.decision.SyncPlanner.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SyncPlannerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static DynamicConfig cfg(String json) throws Exception {
    return DynamicConfigJson.parse(JSON.readTree(json));
  }

  private static MemberRecord running(String name) {
    return new MemberRecord(name, "postgres://" + name + ":5432/postgres", "http://" + name + ":8008/patroni",
        "streaming", "replica", 100L, 1, false, null, false, false, null, false);
  }

  private static Map<String, MemberRecord> members(String... names) {
    Map<String, MemberRecord> m = new TreeMap<>();
    m.put("pg1", new MemberRecord("pg1", "postgres://pg1:5432/postgres", null, "running", "primary", 100L, 1,
        false, null, false, false, null, false));
    for (String n : names) m.put(n, running(n));
    return m;
  }

  private static SyncPlanner.Input input(DynamicConfig cfg, Map<String, MemberRecord> members, List<Standby> rows,
      SyncState sync, Set<String> ssn) {
    return new SyncPlanner.Input("pg1", cfg, members, rows, sync, ssn, 500);
  }

  @Test
  void enablesWithAnEmptySyncKeyFirst() throws Exception {
    Step step = SyncPlanner.next(input(cfg("{\"synchronous_mode\": \"true\"}"), members("pg2"),
        List.of(new Standby("pg2", "streaming", "async", 600)), SyncState.EMPTY, Set.of()));
    assertThat(step).isEqualTo(new Step.WriteSync("pg1", Set.of(), -1, "Enabled synchronous replication"));
  }

  @Test
  void addsToSsnBeforeTheSyncKey() throws Exception {
    DynamicConfig on = cfg("{\"synchronous_mode\": true}");
    SyncState sync = new SyncState("pg1", Set.of(), 4);
    Step first = SyncPlanner.next(input(on, members("pg2"), List.of(new Standby("pg2", "streaming", "async", 600)),
        sync, Set.of()));
    assertThat(first).isInstanceOf(Step.SetSsn.class);
    assertThat(((Step.SetSsn) first).names()).containsExactly("pg2");
    // listed in ssn but not yet reported sync: the key waits
    assertThat(SyncPlanner.next(input(on, members("pg2"), List.of(new Standby("pg2", "streaming", "async", 600)),
        sync, Set.of("pg2")))).isEqualTo(new Step.None());
    // sync, but has not flushed past the position of the ssn change: still waits
    assertThat(SyncPlanner.next(input(on, members("pg2"), List.of(new Standby("pg2", "streaming", "sync", 400)),
        sync, Set.of("pg2")))).isEqualTo(new Step.None());
    Step confirmed = SyncPlanner.next(input(on, members("pg2"), List.of(new Standby("pg2", "streaming", "sync", 600)),
        sync, Set.of("pg2")));
    assertThat(confirmed).isInstanceOf(Step.WriteSync.class);
    assertThat(((Step.WriteSync) confirmed).standbys()).containsExactly("pg2");
    assertThat(((Step.WriteSync) confirmed).expectedVersion()).isEqualTo(4);
  }

  @Test
  void removesFromTheSyncKeyBeforeSsn() throws Exception {
    DynamicConfig on = cfg("{\"synchronous_mode\": true}");
    SyncState sync = new SyncState("pg1", Set.of("pg2"), 7);
    // pg2 stopped streaming; pg3 streams
    Step step = SyncPlanner.next(input(on, members("pg2", "pg3"),
        List.of(new Standby("pg3", "streaming", "async", 900)), sync, Set.of("pg2")));
    assertThat(step).isInstanceOf(Step.WriteSync.class);
    assertThat(((Step.WriteSync) step).standbys()).isEmpty();
    Step next = SyncPlanner.next(input(on, members("pg2", "pg3"),
        List.of(new Standby("pg3", "streaming", "async", 900)), new SyncState("pg1", Set.of(), 8), Set.of("pg2")));
    assertThat(next).isInstanceOf(Step.SetSsn.class);
    assertThat(((Step.SetSsn) next).names()).containsExactly("pg3");
  }

  @Test
  void steadyStateIsNone() throws Exception {
    assertThat(SyncPlanner.next(input(cfg("{\"synchronous_mode\": true}"), members("pg2", "pg3"),
        List.of(new Standby("pg2", "streaming", "sync", 900), new Standby("pg3", "streaming", "potential", 900)),
        new SyncState("pg1", Set.of("pg2"), 2), Set.of("pg2")))).isEqualTo(new Step.None());
  }

  @Test
  void anotherLeadersSyncKeyIsTakenOverWithNoStandbys() throws Exception {
    Step step = SyncPlanner.next(input(cfg("{\"synchronous_mode\": true}"), members("pg2"), List.of(),
        new SyncState("pg2", Set.of("pg1"), 5), Set.of()));
    assertThat(step).isInstanceOf(Step.WriteSync.class);
    assertThat(((Step.WriteSync) step).standbys()).isEmpty();
    assertThat(((Step.WriteSync) step).expectedVersion()).isEqualTo(5);
  }

  @Test
  void modeOffClearsTheSyncKey() throws Exception {
    assertThat(SyncPlanner.next(input(cfg("{\"synchronous_mode\": null}"), members("pg2"), List.of(),
        new SyncState("pg1", Set.of("pg2"), 5), Set.of("pg2")))).isEqualTo(new Step.ClearSync(5));
    assertThat(SyncPlanner.next(input(cfg("{}"), members("pg2"), List.of(), SyncState.EMPTY, Set.of())))
        .isEqualTo(new Step.None());
  }

  @Test
  void strictWithoutStandbysWaitsForAny() throws Exception {
    Step step = SyncPlanner.next(input(cfg("{\"synchronous_mode\": true, \"synchronous_mode_strict\": true}"),
        members("pg2"), List.of(), new SyncState("pg1", Set.of(), 1), Set.of("pg2")));
    assertThat(step).isInstanceOf(Step.SetSsn.class);
    assertThat(((Step.SetSsn) step).strictPlaceholder()).isTrue();
    assertThat(SyncPlanner.ssnText(Set.of(), true)).isEqualTo("*");
  }

  @Test
  void nodeCountPicksTheBestAndExcludesWhoCannotBeSynchronous() throws Exception {
    Map<String, MemberRecord> m = members("pg2", "pg3", "pg4", "pg5");
    m.put("pg5", new MemberRecord("pg5", null, null, "streaming", "replica", 1L, 1, false, null, false, false, "pg2",
        false)); // cascades from pg2
    m.put("pg4", new MemberRecord("pg4", null, null, "streaming", "replica", 1L, 1, true, null, false, false, null,
        false)); // nofailover: last
    m.put("pg3", new MemberRecord("pg3", null, null, "streaming", "replica", 1L, 1, false, null, false, false, null,
        false, true, null)); // nosync
    m.put("pg6", new MemberRecord("pg6", null, null, "streaming", "replica", 1L, 1, false, null, false, false, null,
        false, false, 0)); // sync_priority 0
    m.put("pg7", new MemberRecord("pg7", null, null, "streaming", "replica", 1L, 1, false, null, false, false, null,
        false, false, 5)); // preferred
    List<Standby> rows = new ArrayList<>(List.of(
        new Standby("pg2", "streaming", "async", 100), new Standby("PG3", "streaming", "async", 900),
        new Standby("pg4", "streaming", "async", 5000), new Standby("pg5", "streaming", "async", 5000),
        new Standby("stranger", "streaming", "async", 9000), new Standby("pg2", "catchup", "async", 100),
        new Standby("pg6", "streaming", "async", 9000), new Standby("pg7", "streaming", "async", 10)));
    SyncPlanner.Input in = new SyncPlanner.Input("pg1", cfg("{\"synchronous_mode\": 1, \"synchronous_node_count\": 2}"),
        m, rows, new SyncState("pg1", Set.of(), 1), Set.of(), 0);
    assertThat(SyncPlanner.candidates(in)).extracting(Standby::applicationName).containsExactly("pg7", "pg2", "pg4");
    Step step = SyncPlanner.next(in);
    assertThat(((Step.SetSsn) step).names()).isEqualTo(new TreeSet<>(Set.of("pg7", "pg2")));
  }

  @Test
  void ssnTextAsPatroniWritesIt() {
    assertThat(SyncPlanner.ssnText(Set.of(), false)).isEmpty();
    assertThat(SyncPlanner.ssnText(Set.of("pg2"), false)).isEqualTo("pg2");
    assertThat(SyncPlanner.ssnText(Set.of("pg3", "pg2"), false)).isEqualTo("2 (pg2,pg3)");
    assertThat(SyncPlanner.ssnText(Set.of("pg-node-2", "first"), false)).isEqualTo("2 (\"first\",\"pg-node-2\")");
  }

  @Test
  void maximumLagOnSyncnodeLeavesLaggardsOut() throws Exception {
    List<Standby> rows = List.of(new Standby("pg2", "streaming", "async", 10_000),
        new Standby("pg3", "streaming", "sync", 2_000));
    SyncPlanner.Input in = new SyncPlanner.Input("pg1", cfg("{\"synchronous_mode\": true,"
        + " \"maximum_lag_on_syncnode\": 5000}"), members("pg2", "pg3"), rows, new SyncState("pg1", Set.of(), 1),
        Set.of(), 0, 10_500);
    assertThat(SyncPlanner.candidates(in)).extracting(Standby::applicationName).containsExactly("pg2");
    // alone, a candidate is measured against the primary
    SyncPlanner.Input alone = new SyncPlanner.Input("pg1", cfg("{\"synchronous_mode\": true,"
        + " \"maximum_lag_on_syncnode\": 5000}"), members("pg3"), List.of(rows.get(1)),
        new SyncState("pg1", Set.of(), 1), Set.of(), 0, 10_500);
    assertThat(SyncPlanner.candidates(alone)).isEmpty();
    // -1 (the default) is off
    SyncPlanner.Input off = new SyncPlanner.Input("pg1", cfg("{\"synchronous_mode\": true}"), members("pg3"),
        List.of(rows.get(1)), new SyncState("pg1", Set.of(), 1), Set.of(), 0, 10_500);
    assertThat(SyncPlanner.candidates(off)).hasSize(1);
  }
}
