package io.pgha.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.MockClock;
import io.pgha.decision.ClusterView;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.Reason;
import io.pgha.metrics.Exposition.Family;
import io.pgha.metrics.Exposition.Sample;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PghaMetricsTest {
  private final MockClock clock = new MockClock();
  private final PghaMetrics metrics = new PghaMetrics("batman", "postgresql2", clock);

  @AfterEach
  void close() {
    metrics.close();
  }

  @Test
  void haCycleIsAHistogramInSeconds() {
    metrics.haCycle(Duration.ofMillis(30));
    metrics.haCycle(Duration.ofMillis(3));
    Family f = families().get("pgha_ha_cycle_seconds");

    assertThat(f.type()).isEqualTo("histogram");
    assertThat(value(f, "pgha_ha_cycle_seconds_count", Map.of())).isEqualTo(2.0);
    assertThat(value(f, "pgha_ha_cycle_seconds_sum", Map.of())).isCloseTo(0.033, within(1e-9));
    assertThat(value(f, "pgha_ha_cycle_seconds_bucket", Map.of("le", "0.005"))).isEqualTo(1.0);
    assertThat(value(f, "pgha_ha_cycle_seconds_bucket", Map.of("le", "0.025"))).isEqualTo(1.0);
    assertThat(value(f, "pgha_ha_cycle_seconds_bucket", Map.of("le", "0.05"))).isEqualTo(2.0);
    assertThat(value(f, "pgha_ha_cycle_seconds_bucket", Map.of("le", "+Inf"))).isEqualTo(2.0);
  }

  @Test
  void decisionsAreCountedByReasonAndEveryKnownReasonStartsAtZero() {
    metrics.decision("LEADER_WITH_LOCK");
    metrics.decision("LEADER_WITH_LOCK");
    metrics.decision("NOT_A_KNOWN_CODE");
    Family f = families().get("pgha_ha_decisions_total");

    assertThat(f.type()).isEqualTo("counter");
    assertThat(value(f, "pgha_ha_decisions_total", Map.of("reason", "LEADER_WITH_LOCK"))).isEqualTo(2.0);
    assertThat(value(f, "pgha_ha_decisions_total", Map.of("reason", "NOT_A_KNOWN_CODE"))).isEqualTo(1.0);
    assertThat(value(f, "pgha_ha_decisions_total", Map.of("reason", Reason.DCS_UNREACHABLE.name()))).isZero();
    assertThat(f.samples()).hasSize(Reason.values().length + 1);
  }

  @Test
  void callbacksAreCountedByActionAndOutcome() {
    metrics.callback("on_start", "OK");
    metrics.callback("on_role_change", "TIMED_OUT");
    metrics.callback("on_role_change", "TIMED_OUT");
    Family f = families().get("pgha_callbacks_total");

    assertThat(f.type()).isEqualTo("counter");
    assertThat(value(f, "pgha_callbacks_total", Map.of("action", "on_start", "outcome", "ok"))).isEqualTo(1.0);
    assertThat(value(f, "pgha_callbacks_total", Map.of("action", "on_role_change", "outcome", "timed_out")))
        .isEqualTo(2.0);
  }

  @Test
  void zookeeperSession() {
    assertThat(single("pgha_zookeeper_session_connected")).isZero();

    metrics.zookeeperConnected(true);
    metrics.zookeeperReconnect();
    metrics.zookeeperReconnect();
    metrics.zookeeperRequest(Duration.ofMillis(4));

    Map<String, Family> families = families();
    assertThat(single(families, "pgha_zookeeper_session_connected")).isEqualTo(1.0);
    assertThat(single(families, "pgha_zookeeper_reconnects_total")).isEqualTo(2.0);
    Family request = families.get("pgha_zookeeper_request_seconds");
    assertThat(request.type()).isEqualTo("histogram");
    assertThat(value(request, "pgha_zookeeper_request_seconds_count", Map.of())).isEqualTo(1.0);
    assertThat(value(request, "pgha_zookeeper_request_seconds_bucket", Map.of("le", "0.005"))).isEqualTo(1.0);
    assertThat(value(request, "pgha_zookeeper_request_seconds_bucket", Map.of("le", "0.002"))).isZero();

    metrics.zookeeperConnected(false);
    assertThat(single("pgha_zookeeper_session_connected")).isZero();
  }

  @Test
  void secondsSinceLeaderChangeIsComputedAtScrapeTime() {
    assertThat(single("pgha_seconds_since_leader_change")).isNaN();

    metrics.leaderChanged(clock.wallTime() - 90_000);
    assertThat(single("pgha_seconds_since_leader_change")).isEqualTo(90.0);

    clock.add(30, TimeUnit.SECONDS);
    assertThat(single("pgha_seconds_since_leader_change")).isEqualTo(120.0);
  }

  @Test
  void failoversAndSwitchoversWithTheDurationOfTheLastOne() {
    assertThat(single("pgha_last_failover_duration_seconds")).isNaN();
    assertThat(single("pgha_last_switchover_duration_seconds")).isNaN();

    metrics.failover(Duration.ofMillis(4200));
    metrics.failover(Duration.ofMillis(1500));
    metrics.switchover(Duration.ofMillis(800));

    Map<String, Family> families = families();
    assertThat(single(families, "pgha_failovers_total")).isEqualTo(2.0);
    assertThat(single(families, "pgha_switchovers_total")).isEqualTo(1.0);
    assertThat(single(families, "pgha_last_failover_duration_seconds")).isEqualTo(1.5);
    assertThat(single(families, "pgha_last_switchover_duration_seconds")).isEqualTo(0.8);
    assertThat(families.get("pgha_failovers_total").type()).isEqualTo("counter");
    assertThat(families.get("pgha_last_failover_duration_seconds").type()).isEqualTo("gauge");
  }

  @Test
  void membersClaimingPrimary() {
    metrics.membersClaimingPrimary(2);
    assertThat(single("pgha_members_claiming_primary")).isEqualTo(2.0);

    metrics.membersClaimingPrimary(1);
    assertThat(single("pgha_members_claiming_primary")).isEqualTo(1.0);
  }

  @Test
  void countsTheRunningMembersWhoseKeySaysPrimary() {
    ClusterView view = new ClusterView("pg1", false, Map.of(
        "pg1", member("pg1", "running", "primary"),
        "pg2", member("pg2", "running", "replica"),
        "pg3", member("pg3", "running", "master"),
        "pg4", member("pg4", "stopped", "primary"),
        "pg5", member("pg5", "running", "standby_leader")), null, null, null, 0, 0);

    assertThat(PghaMetrics.countClaimingPrimary(view)).isEqualTo(2);
    assertThat(PghaMetrics.countClaimingPrimary(ClusterView.EMPTY)).isZero();
    assertThat(PghaMetrics.countClaimingPrimary(null)).isZero();
  }

  private static MemberRecord member(String name, String state, String role) {
    return new MemberRecord(name, "postgres://" + name, "http://" + name + ":8008/patroni", state, role, 0L, 1,
        false, null, false, false, null, false);
  }

  @Test
  void jvmMetricsAreThere() {
    assertThat(families()).containsKeys("jvm_memory_used_bytes", "jvm_threads_live_threads",
        "jvm_gc_memory_allocated_bytes_total", "system_cpu_count", "process_cpu_usage", "process_uptime_seconds");
  }

  @Test
  void processCpuTimeIsInSecondsAsPrometheusNamesIt() {
    Map<String, Family> families = families();

    assertThat(families).doesNotContainKey("process_cpu_time_ns_total");
    assertThat(families.get("process_cpu_seconds_total").type()).isEqualTo("counter");
    assertThat(single(families, "process_cpu_seconds_total")).isPositive();
  }

  @Test
  void everyMeterCarriesScopeAndName() {
    for (Family f : families().values()) {
      for (Sample s : f.samples()) {
        assertThat(s.labels()).as(s.name()).containsEntry("scope", "batman").containsEntry("name", "postgresql2");
      }
    }
  }

  @Test
  void noFamilyOfTheRegistryCollidesWithThePatroniBlock() {
    StringBuilder patroni = new StringBuilder();
    PatroniMetrics.render(Fixtures.leader(), patroni);
    Set<String> patroniNames = Exposition.parse(patroni.toString()).keySet();
    Set<String> registryNames = families().keySet();

    Set<String> common = new HashSet<>(patroniNames);
    common.retainAll(registryNames);
    assertThat(common).isEmpty();
    assertThat(registryNames).noneMatch(n -> n.startsWith("patroni_"));
  }

  @Test
  void theAgentsRegistryBindsTheJvmMetersOnlyWhenAskedAndOnce() {
    try (PghaMetrics later = PghaMetrics.jvmMetricsLater("batman", "postgresql0")) {
      assertThat(Exposition.parse(later.scrape())).doesNotContainKeys("jvm_memory_used_bytes",
          "process_cpu_seconds_total").containsKey("pgha_ha_decisions_total");

      later.bindJvmMetrics();
      later.bindJvmMetrics();

      Map<String, Family> bound = Exposition.parse(later.scrape());
      assertThat(bound).containsKeys("jvm_memory_used_bytes", "jvm_threads_live_threads", "process_cpu_seconds_total",
          "process_uptime_seconds");
      assertThat(bound.keySet()).isEqualTo(families().keySet());
    }
  }

  private Map<String, Family> families() {
    return Exposition.parse(metrics.scrape());
  }

  private double single(String family) {
    return single(families(), family);
  }

  private static double single(Map<String, Family> families, String family) {
    Family f = families.get(family);
    assertThat(f).as(family).isNotNull();
    assertThat(f.samples()).as(family).hasSize(1);
    return f.samples().get(0).number();
  }

  /** The value of the sample {@code name} whose labels include {@code labels}. */
  private static double value(Family f, String name, Map<String, String> labels) {
    return f.samples().stream()
        .filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
        .reduce((a, b) -> {
          throw new AssertionError("more than one sample " + name + labels);
        })
        .orElseThrow(() -> new AssertionError("no sample " + name + labels + " in " + f.samples()))
        .number();
  }
}
