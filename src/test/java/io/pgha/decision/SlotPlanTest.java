package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.config.SlotsConfig;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SlotPlanTest {
  private static final SlotsConfig PERMANENT = new SlotsConfig(Map.of(
      "archiver", new SlotsConfig.Permanent("physical", null, null),
      "cdc", new SlotsConfig.Permanent("logical", "app", "test_decoding")),
      List.of(), SlotsConfig.MEMBER_SLOTS_TTL_DEFAULT_MS, List.of());

  private static MemberRecord member(String name, String replicatefrom, boolean nofailover, Long xlog) {
    return new MemberRecord(name, "postgres://" + name + ":5432/postgres", "http://" + name + ":8008/patroni",
        "running", "replica", xlog, 1, nofailover, null, false, false, replicatefrom, false);
  }

  private static ClusterView view(String leader, MemberRecord... members) {
    Map<String, MemberRecord> map = new TreeMap<>();
    for (MemberRecord m : members) map.put(m.name(), m);
    return new ClusterView(leader, false, map, "7711537902423831623", null, null, 1, 0);
  }

  private static final ClusterView THREE = view("pg1", member("pg1", null, false, null),
      member("pg2", null, false, 100L), member("pg3", null, false, 100L));

  private static SlotPlan.Existing physical(String name, long restart) {
    return new SlotPlan.Existing(name, "physical", null, null, restart, 0, "reserved", false, false);
  }

  private static SlotPlan.Existing logical(String name, long confirmed) {
    return new SlotPlan.Existing(name, "logical", "app", "test_decoding", confirmed - 100, confirmed, "reserved",
        false, false);
  }

  @Test
  void withRetentionAReplicaKeepsEveryOtherMembersSlotAndThePermanentOnes() {
    var in = new SlotPlan.Inputs(THREE, "pg2", false, false, true, PERMANENT,
        Map.of("pg1", 5000L, "pg3", 4000L, "archiver", 3000L, "cdc", 2500L), List.of());
    Map<String, SlotPlan.Wanted> wanted = SlotPlan.wanted(in);

    assertThat(wanted.keySet()).containsExactly("archiver", "cdc", "pg1", "pg3");
    assertThat(wanted.get("pg1").lsn()).isEqualTo(5000L);
    assertThat(wanted.get("pg1").expectedActive()).isFalse();
    assertThat(wanted.get("archiver").expectedActive()).isFalse();
    assertThat(wanted.get("cdc").type()).isEqualTo("logical");
  }

  @Test
  void withoutRetentionAReplicaKeepsOnlyCascadingSlotsButStillThePermanentOnes() {
    SlotsConfig ttl0 = new SlotsConfig(PERMANENT.permanent(), List.of(), 0, List.of());
    var in = new SlotPlan.Inputs(THREE, "pg2", false, false, true, ttl0, Map.of(), List.of());

    assertThat(SlotPlan.wanted(in).keySet()).containsExactly("archiver", "cdc");
  }

  @Test
  void aNofailoverMemberKeepsNoPermanentSlotAndOnlyItsCascadingMembers() {
    ClusterView v = view("pg1", member("pg1", null, false, null), member("pg2", null, true, 100L),
        member("pg3", "pg2", false, 90L));
    var in = new SlotPlan.Inputs(v, "pg2", false, true, true, PERMANENT, Map.of(), List.of("pg1", "pg9"));

    assertThat(SlotPlan.wanted(in).keySet()).containsExactly("pg3");
  }

  @Test
  void theLeaderExpectsMemberAndPermanentSlotsActiveAndKeepsRetainedOnes() {
    var in = new SlotPlan.Inputs(THREE, "pg1", true, false, true, PERMANENT, Map.of(), List.of("pg1", "pg4"));
    Map<String, SlotPlan.Wanted> wanted = SlotPlan.wanted(in);

    assertThat(wanted.keySet()).containsExactly("archiver", "cdc", "pg2", "pg3", "pg4");
    assertThat(wanted.get("pg2").expectedActive()).isTrue();
    assertThat(wanted.get("archiver").expectedActive()).isTrue();
    assertThat(wanted.get("pg4").expectedActive()).isNull();
  }

  @Test
  void aPermanentPhysicalSlotNamedLikeMeIsNotMadeOnMe() {
    SlotsConfig cfg = new SlotsConfig(Map.of("pg2", new SlotsConfig.Permanent("physical", null, null)), List.of(),
        SlotsConfig.MEMBER_SLOTS_TTL_DEFAULT_MS, List.of());
    var in = new SlotPlan.Inputs(THREE, "pg2", false, false, true, cfg, Map.of(), List.of());

    assertThat(SlotPlan.wanted(in).keySet()).containsExactly("pg1", "pg3");
  }

  @Test
  void aReplicaCreatesMissingAdvancesBehindCopiesLogicalAndDropsUnknown() {
    var in = new SlotPlan.Inputs(THREE, "pg2", false, false, true, PERMANENT,
        Map.of("pg1", 5000L, "pg3", 4000L, "archiver", 3000L, "cdc", 2500L), List.of());
    List<SlotPlan.Existing> have = List.of(physical("pg1", 4500L), physical("archiver", 3000L),
        physical("stray", 10L));

    List<SlotPlan.Op> ops = SlotPlan.ops(SlotPlan.wanted(in), have, PERMANENT, false, 6000L, true, false, true);

    assertThat(ops).containsExactly(new SlotPlan.Drop("stray", "unknown slot"), new SlotPlan.Copy("cdc"),
        new SlotPlan.Advance("pg1", null, 5000L), new SlotPlan.CreatePhysical("pg3"));
  }

  @Test
  void aLogicalSlotOnAReplicaIsAdvancedNoFurtherThanReplay() {
    var in = new SlotPlan.Inputs(THREE, "pg2", false, false, true, PERMANENT, Map.of("cdc", 9000L), List.of());
    List<SlotPlan.Existing> have = List.of(logical("cdc", 2000L));

    List<SlotPlan.Op> ops = SlotPlan.ops(SlotPlan.wanted(in), have, PERMANENT, false, 7000L, true, false, true);

    assertThat(ops).contains(new SlotPlan.Advance("cdc", "app", 7000L));
  }

  @Test
  void thePrimaryCreatesLogicalSlotsAndNeverAdvancesActiveOnes() {
    var in = new SlotPlan.Inputs(THREE, "pg1", true, false, true, PERMANENT, Map.of("archiver", 9000L), List.of());
    List<SlotPlan.Existing> have = List.of(physical("pg2", 100L), physical("pg3", 100L), physical("archiver", 50L));

    List<SlotPlan.Op> ops = SlotPlan.ops(SlotPlan.wanted(in), have, PERMANENT, true, 0, true, false, true);

    assertThat(ops).containsExactly(new SlotPlan.CreateLogical("cdc", "app", "test_decoding"));
  }

  @Test
  void aLostSlotIsDroppedAndMadeAgainUnlessIgnoredOrPaused() {
    var in = new SlotPlan.Inputs(THREE, "pg1", true, false, true, PERMANENT, Map.of(), List.of());
    var lost = new SlotPlan.Existing("archiver", "physical", null, null, 100, 0, "lost", false, false);
    var wanted = SlotPlan.wanted(in);
    List<SlotPlan.Existing> have = List.of(physical("pg2", 1), physical("pg3", 1), lost, logical("cdc", 500));

    assertThat(SlotPlan.ops(wanted, have, PERMANENT, true, 0, true, false, true)).containsExactly(
        new SlotPlan.Drop("archiver", "its WAL is lost (wal_status = lost)"), new SlotPlan.CreatePhysical("archiver"));
    assertThat(SlotPlan.ops(wanted, have, PERMANENT, true, 0, true, true, true)).isEmpty();
  }

  @Test
  void ignoredSlotsAreLeftAloneByNameTypeDatabaseAndPlugin() {
    SlotsConfig cfg = new SlotsConfig(Map.of(), List.of(new SlotsConfig.Matcher("keep_me", null, null, null),
        new SlotsConfig.Matcher(null, "logical", "app", null)), SlotsConfig.MEMBER_SLOTS_TTL_DEFAULT_MS, List.of());
    var in = new SlotPlan.Inputs(view("pg1", member("pg1", null, false, null)), "pg1", true, false, true, cfg,
        Map.of(), List.of());
    List<SlotPlan.Existing> have = List.of(physical("keep_me", 1), logical("any_app_slot", 10),
        new SlotPlan.Existing("other_db", "logical", "db2", "pgoutput", 1, 1, "reserved", false, false));

    assertThat(SlotPlan.ops(SlotPlan.wanted(in), have, cfg, true, 0, true, false, true))
        .containsExactly(new SlotPlan.Drop("other_db", "unknown slot"));
  }

  @Test
  void aSlotOfTheWrongKindIsDroppedAndAnInactiveOneWithXminToo() {
    var in = new SlotPlan.Inputs(THREE, "pg2", false, false, true, PERMANENT, Map.of(), List.of());
    List<SlotPlan.Existing> have = List.of(new SlotPlan.Existing("cdc", "physical", null, null, 5, 0, null, false,
        false), new SlotPlan.Existing("pg1", "physical", null, null, 5, 0, null, false, true));

    assertThat(SlotPlan.ops(SlotPlan.wanted(in), have, PERMANENT, false, 100, true, false, true)).contains(
        new SlotPlan.Drop("cdc", "changing from physical to logical"),
        new SlotPlan.Drop("pg1", "nobody streams from it but it holds an xmin"));
  }

  @Test
  void theLeaderPublishesItsSlotsAndItsOwnNameAtItsPosition() {
    var in = new SlotPlan.Inputs(THREE, "pg1", true, false, true, PERMANENT, Map.of(), List.of());
    var wanted = SlotPlan.wanted(in);
    List<SlotPlan.Existing> have = List.of(physical("pg2", 100), physical("archiver", 80), logical("cdc", 90),
        physical("stray", 1));

    assertThat(SlotPlan.published(wanted, have, "pg1", 120, PERMANENT, true))
        .containsExactlyInAnyOrderEntriesOf(Map.of("pg1", 120L, "pg2", 100L, "archiver", 80L, "cdc", 90L));
    SlotsConfig ttl0 = new SlotsConfig(PERMANENT.permanent(), List.of(), 0, List.of());
    assertThat(SlotPlan.published(wanted, have, "pg1", 120, ttl0, true))
        .containsExactlyInAnyOrderEntriesOf(Map.of("archiver", 80L, "cdc", 90L));
    assertThat(SlotPlan.published(wanted, have, "pg1", 120, PERMANENT, false)).isEmpty();
  }

  @Test
  void retainedMemberSlotsExpireAfterTheTtl() {
    ClusterView two = view("pg1", member("pg1", null, false, null), member("pg2", null, false, 1L));
    Map<String, Long> seen = SlotPlan.retain(Map.of(), Set.of("pg1", "pg2", "pg3", "archiver"), THREE, "pg1",
        PERMANENT, 1_000);
    assertThat(seen.keySet()).containsExactly("pg1", "pg2", "pg3");

    // pg3's key is gone: it stays until member_slots_ttl after it was last seen
    long ttl = SlotsConfig.MEMBER_SLOTS_TTL_DEFAULT_MS;
    seen = SlotPlan.retain(seen, Set.of("pg1", "pg2"), two, "pg1", PERMANENT, 1_000 + ttl - 1);
    assertThat(seen.keySet()).containsExactly("pg1", "pg2", "pg3");
    seen = SlotPlan.retain(seen, Set.of("pg1", "pg2"), two, "pg1", PERMANENT, 1_000 + ttl);
    assertThat(seen.keySet()).containsExactly("pg1", "pg2");
  }

  @Test
  void slotNamesFollowPatroni() {
    assertThat(SlotPlan.slotName("Pg-Node.1@x")).isEqualTo("pg_node_1u0064x");
  }
}
