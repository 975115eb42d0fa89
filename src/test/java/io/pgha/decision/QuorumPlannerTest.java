package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfigJson;
import io.pgha.decision.QuorumPlanner.Ssn;
import io.pgha.decision.QuorumPlanner.Step;
import io.pgha.decision.SyncPlanner.Standby;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** {@link QuorumPlanner}: the primary's quorum steps, from what PostgreSQL and the sync key show (§4.4, §4.7). */
class QuorumPlannerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static DynamicConfig cfg(String json) throws Exception {
    return DynamicConfigJson.parse(JSON.readTree(json));
  }

  private static Map<String, MemberRecord> members(String... names) {
    Map<String, MemberRecord> m = new TreeMap<>();
    m.put("pg1", new MemberRecord("pg1", "postgres://pg1:5432/postgres", null, "running", "primary", 100L, 1,
        false, null, false, false, null, false));
    for (String n : names) {
      m.put(n, new MemberRecord(n, "postgres://" + n + ":5432/postgres", "http://" + n + ":8008/patroni",
          "streaming", "replica", 100L, 1, false, null, false, false, null, false));
    }
    return m;
  }

  private static Step next(DynamicConfig cfg, List<Standby> rows, SyncState sync, String inForce, Ssn written) {
    return QuorumPlanner.next(new QuorumPlanner.Input("pg1", cfg, members("pg2", "pg3"), rows, sync, inForce,
        written, 500, 600));
  }

  @Test
  void threeMembersOneOfTwoRequired() throws Exception {
    DynamicConfig quorum = cfg("{\"synchronous_mode\": \"quorum\", \"synchronous_node_count\": 1}");
    List<Standby> potential = List.of(new Standby("pg2", "streaming", "async", 600),
        new Standby("pg3", "streaming", "async", 600));
    // 1. no sync key: take it, with nobody
    assertThat(next(quorum, potential, SyncState.EMPTY, "", null))
        .isEqualTo(new Step.WriteSync("pg1", Set.of(), 0, -1, "Enabled synchronous replication"));
    // 2. ssn first: ANY 1 (pg2,pg3)
    SyncState enabled = new SyncState("pg1", Set.of(), 0, 0);
    Step ssn = next(quorum, potential, enabled, "", null);
    assertThat(ssn).isInstanceOf(Step.SetSsn.class);
    assertThat(((Step.SetSsn) ssn).ssn().text()).isEqualTo("ANY 1 (pg2,pg3)");
    // 3. written but not yet in force: wait
    assertThat(next(quorum, potential, enabled, "", new Ssn(1, Set.of("pg2", "pg3")))).isInstanceOf(Step.Wait.class);
    // 4. in force, not confirmed (not in state quorum yet): wait for them
    assertThat(next(quorum, potential, enabled, "ANY 1 (pg2,pg3)", new Ssn(1, Set.of("pg2", "pg3"))))
        .isInstanceOf(Step.Wait.class);
    // 5. both confirmed: the key gets quorum 1 of (pg2, pg3)
    List<Standby> confirmed = List.of(new Standby("pg2", "streaming", "quorum", 600),
        new Standby("pg3", "streaming", "quorum", 600));
    assertThat(next(quorum, confirmed, enabled, "ANY 1 (pg2,pg3)", new Ssn(1, Set.of("pg2", "pg3"))))
        .isEqualTo(new Step.WriteSync("pg1", Set.of("pg2", "pg3"), 1, 0,
            "Setting leader to pg1, quorum to 1 of (pg2, pg3)"));
    // 6. steady
    SyncState steady = new SyncState("pg1", Set.of("pg2", "pg3"), 1, 1);
    assertThat(next(quorum, confirmed, steady, "ANY 1 (pg2,pg3)", null)).isEqualTo(new Step.None());
    // 7. pg3 goes: with quorum 1 to spare ssn shrinks first (ANY 1 (pg2)), then the key (quorum 0 of pg2)
    List<Standby> onlyPg2 = List.of(new Standby("pg2", "streaming", "quorum", 600));
    Step shrink = next(quorum, onlyPg2, steady, "ANY 1 (pg2,pg3)", null);
    assertThat(((Step.SetSsn) shrink).ssn()).isEqualTo(new Ssn(1, Set.of("pg2")));
    assertThat(next(quorum, onlyPg2, steady, "ANY 1 (pg2)", new Ssn(1, Set.of("pg2"))))
        .isEqualTo(new Step.WriteSync("pg1", Set.of("pg2"), 0, 1, "Setting leader to pg1, quorum to 0 of (pg2)"));
  }

  @Test
  void beforePromotionAndAfter() throws Exception {
    DynamicConfig quorum = cfg("{\"synchronous_mode\": \"quorum\"}");
    SyncState old = new SyncState("pg0", Set.of("pg1", "pg3"), 1, 7);
    // pg1 was a voter: ANY (3 - 1 - 1) of (pg0, pg3)
    assertThat(QuorumPlanner.beforePromote("pg1", old, quorum)).isEqualTo(new Ssn(1, Set.of("pg0", "pg3")));
    // a member outside the voters needs one more
    assertThat(QuorumPlanner.beforePromote("pg2", old, quorum)).isEqualTo(new Ssn(2, Set.of("pg0", "pg1", "pg3")));
    assertThat(QuorumPlanner.beforePromote("pg1", SyncState.EMPTY, quorum)).isEqualTo(Ssn.NONE);
    // after the promotion the key moves to me, the old leader becomes a voter
    Step first = QuorumPlanner.next(new QuorumPlanner.Input("pg1", quorum, members("pg3"),
        List.of(new Standby("pg3", "streaming", "quorum", 600)), old, "ANY 1 (pg0,pg3)", new Ssn(1, Set.of("pg0",
            "pg3")), 500, 600));
    assertThat(first).isEqualTo(new Step.WriteSync("pg1", Set.of("pg0", "pg3"), 1, 7,
        "Setting leader to pg1, quorum to 1 of (pg0, pg3)"));
  }

  @Test
  void strictModeKeepsWaitingForTheVoters() throws Exception {
    DynamicConfig strict = cfg("{\"synchronous_mode\": \"quorum\", \"synchronous_mode_strict\": true}");
    SyncState steady = new SyncState("pg1", Set.of("pg2", "pg3"), 1, 1);
    Step keep = next(strict, List.of(), steady, "", null);
    assertThat(((Step.SetSsn) keep).ssn()).isEqualTo(new Ssn(1, Set.of("pg2", "pg3")));
    assertThat(next(strict, List.of(), new SyncState("pg1", Set.of(), 0, 1), "ANY 1 (pg2)", null))
        .isInstanceOf(Step.SetSsn.class);
    assertThat(((Step.SetSsn) next(strict, List.of(), new SyncState("pg1", Set.of(), 0, 1), "", null)).ssn().text())
        .isEqualTo("ANY 1 (" + QuorumPlanner.STRICT_PLACEHOLDER + ")");
  }

  @Test
  void ssnTextAndParse() {
    assertThat(new Ssn(1, Set.of("pg3", "pg2")).text()).isEqualTo("ANY 1 (pg2,pg3)");
    assertThat(new Ssn(1, Set.of("Pg-2")).text()).isEqualTo("ANY 1 (\"Pg-2\")");
    assertThat(Ssn.NONE.text()).isEmpty();
    assertThat(QuorumPlanner.parse("ANY 2 (pg2, \"Pg-3\",pg4)")).isEqualTo(new Ssn(2, Set.of("pg2", "Pg-3", "pg4")));
    assertThat(QuorumPlanner.parse("FIRST 1 (a,b)")).isEqualTo(new Ssn(1, Set.of("a", "b")));
    assertThat(QuorumPlanner.parse("2 (a,b)")).isEqualTo(new Ssn(2, Set.of("a", "b")));
    assertThat(QuorumPlanner.parse("pg2")).isEqualTo(new Ssn(1, Set.of("pg2")));
    assertThat(QuorumPlanner.parse("a, b")).isEqualTo(new Ssn(1, Set.of("a", "b")));
    assertThat(QuorumPlanner.parse("")).isEqualTo(Ssn.NONE);
    assertThat(QuorumPlanner.parse(null)).isEqualTo(Ssn.NONE);
    assertThat(QuorumPlanner.parse("*")).isEqualTo(new Ssn(1, Set.of()));
    assertThat(QuorumPlanner.parse("ANY 1 (" + QuorumPlanner.STRICT_PLACEHOLDER + ")")).isEqualTo(new Ssn(1, Set.of()));
    assertThat(QuorumPlanner.parse("ANY x (a")).isNotNull(); // garbage: read as best it can, never a crash
  }
}
