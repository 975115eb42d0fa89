package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.dcs.ClusterSnapshot.Member;
import io.pgha.config.Values;
import io.pgha.dcs.ClusterSnapshot;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The pure part of Patroni's {@code is_failover_possible} for {@code POST /switchover|failover} (§5.8 step 6): which
 * members to ask, and why an answer disqualifies a member. Patroni's REST handler only rejects unreachable,
 * {@code nofailover} and watchdog-less members; pgha also rejects what its leader would refuse when acting on the key
 * (§3.8 "eligible peer"): postgres not running or not queryable, a candidate running as a primary while the cluster
 * has a leader, and lag beyond {@code maximum_lag_on_failover}. So a request the leader cannot honour is answered 412
 * with the reason, instead of 503 "Switchover failed" after the key was written.
 */
final class Candidates {
  private Candidates() {}

  static final long DEFAULT_MAXIMUM_LAG_ON_FAILOVER = 1048576;
  static final int DEFAULT_LOOP_WAIT_SECONDS = 10;

  /** Either a 412 message, or the members whose {@code /patroni} decides (at least one must qualify). */
  record Selection(String error, List<Member> members) {
    static Selection error(String message) {
      return new Selection(message, List.of());
    }
  }

  /** Patroni's checks before any probe, in its order ({@code action}: {@code switchover} or {@code failover}). */
  static Selection select(ClusterSnapshot cluster, String leader, String candidate, String action) {
    if (leader != null && !leader.equals(cluster.leader())) {
      return Selection.error("leader name does not match");
    }
    boolean sync = synchronousMode(cluster) && !quorumMode(cluster);
    if (candidate != null) {
      if (action.equals("switchover") && sync && !inSync(cluster, candidate)) {
        return Selection.error("candidate name does not match with sync_standby");
      }
      Optional<Member> member = cluster.member(candidate);
      if (member.isEmpty()) {
        return Selection.error("candidate does not exists");
      }
      return new Selection(null, List.of(member.get()));
    }
    if (sync) {
      List<Member> members = cluster.members().stream().filter(m -> inSync(cluster, m.name())).toList();
      return members.isEmpty() ? Selection.error(action + " is not possible: can not find sync_standby")
          : new Selection(null, members);
    }
    List<Member> members = cluster.members().stream()
        .filter(m -> cluster.leader() == null || !m.name().equals(cluster.leader()) && m.apiUrl() != null)
        .toList();
    return members.isEmpty() ? Selection.error(action + " is not possible: cluster does not have members except leader")
        : new Selection(null, members);
  }

  /** The 412 message when no probed member qualified: Patroni's text, then each member's reason. */
  static String noGoodCandidates(String action, List<String> reasons) {
    return action + " is not possible: no good candidates have been found (" + String.join("; ", reasons) + ")";
  }

  /**
   * Why the member that answered {@code status} cannot take over, or null if it can.
   *
   * @param member the member asked
   * @param status its {@code /patroni} JSON, or null when it could not be asked or did not answer JSON in time
   * @param cluster the fresh read (lock holder, {@code status.optime}, {@code maximum_lag_on_failover})
   */
  static String limitation(Member member, JsonObject status, ClusterSnapshot cluster) {
    if (member.name().equals(cluster.leader())) {
      return "already the leader";
    }
    if (member.apiUrl() == null) {
      return "not reachable (no api_url)";
    }
    if (status == null) {
      return "not reachable";
    }
    String state = status.getValue("state") instanceof String s ? s : "unknown";
    if (!"running".equals(state)) {
      return "not healthy (state: " + state + ")";
    }
    if (!(status.getValue("xlog") instanceof JsonObject xlog)) {
      return "not healthy (postgres does not answer queries)";
    }
    String nofailover = nofailover(status.getValue("tags") instanceof JsonObject tags ? tags : new JsonObject());
    if (nofailover != null) {
      return "not allowed to promote (" + nofailover + ")";
    }
    if (Boolean.TRUE.equals(Values.parseBool(String.valueOf(status.getValue("watchdog_failed", false))))) {
      return "not watchdog capable";
    }
    String role = status.getValue("role") instanceof String r ? r : "";
    boolean primary = xlog.getValue("location") != null || role.equals("primary") || role.equals("master");
    if (primary) {
      return cluster.leader() != null ? "not healthy (running as a primary)" : null;
    }
    // pgha: a planned switchover hands over only to a member that streams right now, because the old primary
    // releases the key only once the candidate has received its shutdown checkpoint
    if (cluster.leader() != null && !"streaming".equals(status.getValue("replication_state"))) {
      return "not streaming from the leader";
    }
    long lsn = Math.max(number(xlog.getValue("received_location")), number(xlog.getValue("replayed_location")));
    long lag = cluster.optime() - lsn;
    long maxLag = maximumLagOnFailover(cluster.config());
    if (cluster.optime() > 0 && lag > maxLag) {
      return "lagging by " + lag + " bytes, maximum_lag_on_failover is " + maxLag;
    }
    return null;
  }

  /** Patroni 4.x {@code Tags.nofailover}: the tag when set, else {@code failover_priority <= 0}; null if allowed. */
  static String nofailover(JsonObject tags) {
    Object tag = tags.getValue("nofailover");
    if (tag != null) {
      return Boolean.TRUE.equals(Values.parseBool(String.valueOf(tag))) ? "nofailover tag" : null;
    }
    Object priority = tags.getValue("failover_priority");
    if (priority != null) {
      Long value = Values.integer(com.fasterxml.jackson.databind.node.TextNode.valueOf(String.valueOf(priority)));
      if (value != null && value <= 0) {
        return "failover_priority " + value;
      }
    }
    return null;
  }

  /** Patroni's {@code is_synchronous_mode}: {@code synchronous_mode} true-ish or {@code quorum}, not standby. */
  static boolean synchronousMode(ClusterSnapshot cluster) {
    ObjectNode config = cluster.config();
    if (config == null || cluster.standbyCluster()) {
      return false;
    }
    JsonNode mode = config.get("synchronous_mode");
    return Values.bool(mode, false) || quorumMode(cluster);
  }

  static boolean quorumMode(ClusterSnapshot cluster) {
    ObjectNode config = cluster.config();
    JsonNode mode = config == null ? null : config.get("synchronous_mode");
    return mode != null && mode.isTextual() && mode.asText().trim().toLowerCase(Locale.ROOT).equals("quorum");
  }

  /** Whether {@code name} is listed in {@code sync} (case-insensitive, as Patroni's {@code SyncState.matches}). */
  static boolean inSync(ClusterSnapshot cluster, String name) {
    return cluster.syncStandbys().stream().anyMatch(s -> s.trim().equalsIgnoreCase(name.trim()));
  }

  static long maximumLagOnFailover(ObjectNode config) {
    Long value = config == null ? null : Values.integer(config.get("maximum_lag_on_failover"));
    return value == null ? DEFAULT_MAXIMUM_LAG_ON_FAILOVER : value;
  }

  static int loopWaitSeconds(ObjectNode config) {
    Long value = config == null ? null : Values.integer(config.get("loop_wait"));
    return value == null ? DEFAULT_LOOP_WAIT_SECONDS : (int) Math.max(1, Math.min(value, 3600));
  }

  private static long number(Object value) {
    return value instanceof Number n ? n.longValue() : 0;
  }
}
