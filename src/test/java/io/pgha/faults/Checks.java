package io.pgha.faults;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.LocalCluster;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The checks after a fault that need the live cluster: convergence (c), what the final primary holds (b), and the
 * fencing guard's counter. The single-writer check (a) needs only the ledger ({@link Ledger#singleWriter}).
 */
final class Checks {

  static final String GUARD_FIRES_METRIC = "pgha_fencing_guard_fires_total";

  private Checks() {}

  /** Healthy, or why not, with the leader when there is one. */
  record Health(boolean healthy, String leader, String why, long atNanos) {
    Health(boolean healthy, String leader, String why) {
      this(healthy, leader, why, System.nanoTime());
    }

    static Health not(String leader, String why) {
      return new Health(false, leader, why);
    }

    Health at(long nanos) {
      return new Health(healthy, leader, why, nanos);
    }
  }

  /**
   * Convergence: one leader holding the key, every other member a running replica streaming from it on its
   * timeline, as PostgreSQL itself says ({@code pg_stat_replication} on the leader, {@code pg_stat_wal_receiver}
   * and the received timeline on each replica), and the agents' own reports agree: member keys, {@code /patroni}
   * (role, state, {@code replication_state} where the agent reports it) and, when {@code withCli}, {@code pghactl
   * list} (a JVM of its own, so only once everything else agrees).
   */
  static Health health(FaultCluster cluster, boolean withCli) {
    Optional<ClusterSnapshot> view = cluster.snapshot();
    if (view.isEmpty()) {
      return Health.not(null, "ZooKeeper cannot be read");
    }
    String leader = view.get().leader();
    if (leader == null) {
      return Health.not(null, "no leader key");
    }
    if (!view.get().leaderMember().map(ClusterSnapshot.Member::isRunningPrimary).orElse(false)) {
      return Health.not(leader, "leader's member key is not a running primary");
    }
    List<String> replicas = cluster.names().stream().filter(n -> !n.equals(leader)).toList();
    for (String replica : replicas) {
      if (!view.get().member(replica).map(ClusterSnapshot.Member::isRunningReplica).orElse(false)) {
        return Health.not(leader, replica + "'s member key is not a running streaming replica: "
            + view.get().member(replica).map(m -> m.data().toString()).orElse("missing"));
      }
    }
    long timeline;
    Set<String> streamingToLeader = new HashSet<>();
    try {
      Map<String, Object> row = cluster.sql(leader, "SELECT pg_is_in_recovery() AS recovery, CASE WHEN "
          + "pg_is_in_recovery() THEN 0 ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))"
          + "::bit(32)::int END AS timeline").get(0);
      if (Boolean.TRUE.equals(row.get("recovery"))) {
        return Health.not(leader, "leader " + leader + "'s postgres is in recovery");
      }
      timeline = ((Number) row.get("timeline")).longValue();
      cluster.sql(leader, "SELECT application_name, state FROM pg_stat_replication").stream()
          .filter(r -> "streaming".equals(r.get("state")))
          .forEach(r -> streamingToLeader.add(String.valueOf(r.get("application_name"))));
    } catch (Exception e) {
      return Health.not(leader, "leader " + leader + "'s postgres does not answer: " + e.getMessage());
    }
    int leaderPort = cluster.member(leader).postgresPort();
    for (String replica : replicas) {
      if (!streamingToLeader.contains(replica)) {
        return Health.not(leader, replica + " is not in the leader's pg_stat_replication as streaming "
            + streamingToLeader);
      }
      try {
        List<Map<String, Object>> rows = cluster.sql(replica, "SELECT pg_is_in_recovery() AS recovery, "
            + "r.status, r.sender_port, r.received_tli FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver r ON true");
        Map<String, Object> row = rows.get(0);
        if (!Boolean.TRUE.equals(row.get("recovery")) || !"streaming".equals(row.get("status"))
            || !Integer.valueOf(leaderPort).equals(row.get("sender_port"))
            || row.get("received_tli") == null || ((Number) row.get("received_tli")).longValue() != timeline) {
          return Health.not(leader, replica + " does not stream from " + leader + " on timeline " + timeline
              + ": " + row);
        }
      } catch (Exception e) {
        return Health.not(leader, replica + "'s postgres does not answer: " + e.getMessage());
      }
    }
    for (String name : cluster.names()) {
      Optional<JsonNode> status = cluster.patroni(name);
      if (status.isEmpty()) {
        return Health.not(leader, name + "'s /patroni does not answer");
      }
      String role = status.get().path("role").asText();
      String state = status.get().path("state").asText();
      boolean roleAgrees = name.equals(leader) ? role.equals("master") || role.equals("primary")
          : role.equals("replica");
      JsonNode replicationState = status.get().get("replication_state");
      if (!roleAgrees || !state.equals("running")
          || (!name.equals(leader) && replicationState != null && !replicationState.asText().equals("streaming"))) {
        return Health.not(leader, name + "'s /patroni disagrees with PostgreSQL: role " + role + ", state " + state
            + (replicationState != null ? ", replication_state " + replicationState.asText() : ""));
      }
    }
    if (withCli) {
      Optional<JsonNode> list = cluster.pghactlList();
      if (list.isEmpty() || !list.get().isArray()) {
        return Health.not(leader, "pghactl list failed");
      }
      for (JsonNode row : list.get()) {
        String name = row.path("Member").asText();
        String role = row.path("Role").asText();
        String state = row.path("State").asText();
        boolean agrees = name.equals(leader) ? role.equals("Leader")
            : (role.equals("Replica") || role.equals("Sync Standby"))
                && (state.equals("running") || state.equals("streaming"));
        if (!agrees) {
          return Health.not(leader, "pghactl list disagrees: " + row);
        }
      }
      if (list.get().size() != cluster.names().size()) {
        return Health.not(leader, "pghactl list shows " + list.get().size() + " members");
      }
    }
    return new Health(true, leader, "healthy");
  }

  /** Polls {@link #health} (cheap checks first, pghactl last) until healthy or {@code timeout}. */
  static Health awaitHealthy(FaultCluster cluster, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Health last = Health.not(null, "not checked");
    while (System.nanoTime() < deadline) {
      long checkedAt = System.nanoTime();
      last = health(cluster, false);
      if (last.healthy()) {
        last = health(cluster, true);
        if (last.healthy()) {
          // healthy since the cheap checks passed; pghactl only confirmed it (its JVM takes a second or two)
          return last.at(checkedAt);
        }
      }
      LocalCluster.sleep(Duration.ofMillis(250));
    }
    return last;
  }

  /**
   * How many of {@code acked} values the primary {@code name} does not have, or empty when it cannot be read.
   */
  static OptionalLongish missingOn(FaultCluster cluster, String name, List<Ledger.Ack> acked) {
    if (acked.isEmpty()) {
      return new OptionalLongish(0);
    }
    long min = acked.stream().mapToLong(Ledger.Ack::value).min().orElseThrow();
    long max = acked.stream().mapToLong(Ledger.Ack::value).max().orElseThrow();
    for (int attempt = 0; attempt < 10; attempt++) {
      try {
        Set<Long> present = cluster.sql(name, "SELECT value FROM " + Writers.TABLE + " WHERE value BETWEEN " + min
            + " AND " + max).stream().map(r -> ((Number) r.get("value")).longValue()).collect(Collectors.toSet());
        return new OptionalLongish(acked.stream().filter(a -> !present.contains(a.value())).count());
      } catch (Exception e) {
        LocalCluster.sleep(Duration.ofMillis(500));
      }
    }
    return new OptionalLongish(-1);
  }

  /** A count, or -1 for "could not be measured". */
  record OptionalLongish(long value) {
    boolean known() {
      return value >= 0;
    }
  }

  /** The fencing guard's fire counter on {@code name}'s /metrics; 0 where it does not exist; empty if unreachable. */
  static OptionalDouble guardFires(FaultCluster cluster, String name) {
    return cluster.get(name, "/metrics").filter(r -> r.statusCode() == 200).map(r -> {
      double sum = 0;
      for (String line : r.body().split("\n")) {
        if (line.startsWith(GUARD_FIRES_METRIC + " ") || line.startsWith(GUARD_FIRES_METRIC + "{")) {
          String[] parts = line.trim().split("\\s+");
          try {
            sum += Double.parseDouble(parts[parts.length - 1]);
          } catch (NumberFormatException ignored) {
            // a malformed line counts as nothing rather than failing the run
          }
        }
      }
      return OptionalDouble.of(sum);
    }).orElse(OptionalDouble.empty());
  }
}
