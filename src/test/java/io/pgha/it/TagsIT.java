package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.postgres.SlotNames;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tags (patroni-compat §9.2) on a real cluster: m1 is {@code noloadbalance} (its {@code /replica} answers 503) and
 * has no {@code bootstrap} section, so m0 leads; m2 is {@code nofailover} and {@code replicatefrom: m1}, so it
 * streams from m1, whose replication slot it uses, and is never promoted, not even as the last member standing.
 */
@Tag("integration")
class TagsIT {
  private static final Duration WATCH = Duration.ofSeconds(8);

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void tagsArePublishedAndHonoured() throws Exception {
    TestCluster cluster = clusters.start("tags", 3, TagsIT::configureTags);
    assertThat(cluster.awaitLeader(Duration.ofSeconds(90))).isEqualTo("m0");
    cluster.awaitStreamingFrom("m1", "m0", Duration.ofSeconds(90));
    cluster.awaitStreamingFrom("m2", "m1", Duration.ofSeconds(90)); // cascading: pg_stat_wal_receiver names m1

    // published in the member key and /patroni
    JsonNode m2Tags = cluster.memberKey("m2").orElseThrow().path("tags");
    assertThat(m2Tags.path("nofailover").asBoolean()).isTrue();
    assertThat(m2Tags.path("replicatefrom").asText()).isEqualTo("m1");
    assertThat(cluster.memberKey("m1").orElseThrow().path("tags").path("noloadbalance").asBoolean()).isTrue();
    assertThat(cluster.patroniStatus("m1").orElseThrow().path("tags").path("noloadbalance").asBoolean()).isTrue();
    assertThat(cluster.memberKey("m0").orElseThrow().has("tags")).as("false tags are not published").isFalse();

    // m2 streams from m1 through its slot there; the leader keeps a slot for m2 too, unused, as Patroni 4.0 does with
    // member_slots_ttl > 0 (default 30min: every failover-capable member keeps every other member's slot)
    cluster.await("m1's and m2's slots on the leader", Duration.ofSeconds(30),
        () -> slotsOrNone(cluster, "m0").equals(List.of(SlotNames.forMember("m1"), SlotNames.forMember("m2"))));
    assertThat(slotsInUse(cluster, "m0")).containsExactly(SlotNames.forMember("m1"));
    cluster.await("m2's slot on m1 in use", Duration.ofSeconds(30),
        () -> slotsInUse(cluster, "m1").equals(List.of(SlotNames.forMember("m2"))));

    // noloadbalance: no replica traffic for m1; m2 gets it, and tag filters apply
    assertThat(cluster.request("m1", "GET", "/replica", null).status()).isEqualTo(503);
    assertThat(cluster.request("m1", "GET", "/read-only", null).status()).isEqualTo(503);
    assertThat(cluster.request("m1", "GET", "/health", null).status()).isEqualTo(200);
    assertThat(cluster.request("m2", "GET", "/replica", null).status()).isEqualTo(200);
    assertThat(cluster.request("m2", "GET", "/replica?tag_nofailover=true", null).status()).isEqualTo(200);
    assertThat(cluster.request("m2", "GET", "/replica?tag_replicatefrom=m0", null).status()).isEqualTo(503);

    // nofailover: the leader goes, m1 takes over and m2 does not race
    cluster.sigtermAgent("m0");
    assertThat(cluster.awaitLeaderOtherThan("m0", Duration.ofSeconds(30))).isEqualTo("m1");
    cluster.awaitStreamingFrom("m2", "m1", Duration.ofSeconds(30));

    // and with m1 gone too, m2 is the only member left and still does not promote itself
    cluster.sigtermAgent("m1");
    assertThat(cluster.agent("m1").waitFor(Duration.ofSeconds(30))).isTrue();
    long until = System.nanoTime() + WATCH.toNanos();
    while (System.nanoTime() < until) {
      assertThat(cluster.leader().filter("m2"::equals)).as("m2 took the leader key").isEmpty();
      assertThat(cluster.sql("m2", "SELECT pg_is_in_recovery() AS r").get(0).get("r")).as("m2 promoted")
          .isEqualTo(true);
      TestCluster.sleep(Duration.ofMillis(500));
    }
    assertThat(cluster.agent("m2").isAlive()).isTrue();
  }

  private static void configureTags(String name, ObjectNode yaml) {
    switch (name) {
      case "m1" -> {
        yaml.remove("bootstrap");
        yaml.putObject("tags").put("noloadbalance", true);
      }
      case "m2" -> yaml.putObject("tags").put("nofailover", true).put("replicatefrom", "m1");
      default -> yaml.putObject("tags");
    }
  }

  private static List<String> slots(TestCluster cluster, String name) throws Exception {
    return cluster.sql(name, "SELECT slot_name::text AS s FROM pg_replication_slots ORDER BY 1").stream()
        .map(r -> (String) r.get("s")).toList();
  }

  private static List<String> slotsOrNone(TestCluster cluster, String name) {
    try {
      return slots(cluster, name);
    } catch (Exception e) {
      return List.of();
    }
  }

  private static List<String> slotsInUse(TestCluster cluster, String name) {
    try {
      List<Map<String, Object>> rows = cluster.sql(name,
          "SELECT slot_name::text AS s FROM pg_replication_slots WHERE active ORDER BY 1");
      return rows.stream().map(r -> (String) r.get("s")).toList();
    } catch (Exception e) {
      return List.of();
    }
  }
}
