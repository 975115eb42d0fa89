package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.model.NodeStatus;
import java.util.List;
import java.util.Map;

/**
 * The health checks of §5.3: every GET without a handler of its own, and every HEAD and OPTIONS, is answered 200 or
 * 503 from the path (matched by substring, in Patroni's order) and the query ({@code lag}, {@code replication_state},
 * {@code tag_<k>}). A pure function of its arguments.
 *
 * <p>Deliberate deviation from Patroni ("never stale"): Patroni 3.0.2 (and 4.x) answer 200 on {@code /},
 * {@code /primary}, {@code /master}, {@code /read-write}, {@code /leader} (and {@code /read-only}) for as long as
 * the member holds the leader lock, even while postgres is down or not answering, until the lock expires: HAProxy
 * would keep sending writes to a dead server for up to {@code ttl} seconds. pgha answers 503 on every leader
 * endpoint unless postgres is also {@code running} and answered its last status query.
 */
public final class HealthCheck {
  public static final int OK = 200;
  public static final int UNAVAILABLE = 503;

  private static final String TAG_PREFIX = "tag_";

  private HealthCheck() {}

  /**
   * @param path the request path without the query, not decoded ({@code /} means {@code /primary})
   * @param query decoded query parameters; blank values are ignored, as Python's {@code parse_qs} drops them
   * @param s the current snapshot
   * @return 200 or 503
   */
  public static int status(String path, Map<String, List<String>> query, NodeStatus s) {
    String p = "/".equals(path) ? "/primary" : path;
    boolean replicaOk = replicaOk(query, s);

    boolean leader;
    boolean primary;
    boolean standbyLeader;
    if (!s.dcsViewPresent() && s.paused()) {
      // no view of the cluster, but paused: trust the role postgres reports
      leader = NodeFacts.isPrimaryRole(s.role()) || NodeFacts.STANDBY_LEADER.equals(s.role());
      primary = NodeFacts.isPrimaryRole(s.role());
      standbyLeader = NodeFacts.STANDBY_LEADER.equals(s.role());
    } else if (s.leaderLockHeld()) {
      leader = true;
      if (NodeFacts.isStandbyCluster(s)) {
        primary = false;
        replicaOk = false;
        standbyLeader = NodeFacts.REPLICA.equals(s.role()) || NodeFacts.STANDBY_LEADER.equals(s.role());
      } else {
        primary = true;
        standbyLeader = false;
      }
    } else {
      leader = primary = standbyLeader = false;
    }
    if (!NodeFacts.pgUp(s)) { // never stale: see the class comment
      leader = primary = standbyLeader = false;
    }

    boolean ok;
    boolean checkTags = true;
    if (p.contains("standby_leader") || p.contains("standby-leader")) {
      ok = standbyLeader;
      checkTags = false;
    } else if (p.contains("leader")) {
      ok = leader;
      checkTags = false;
    } else if (p.contains("master") || p.contains("primary") || p.contains("read-write")) {
      ok = primary;
      checkTags = false;
    } else if (p.contains("replica")) {
      ok = replicaOk;
    } else if (p.contains("read-only") && !p.contains("sync") && !p.contains("quorum")) {
      ok = primary || standbyLeader || replicaOk;
    } else if (p.contains("health")) {
      ok = NodeFacts.RUNNING.equals(NodeFacts.effectiveState(s));
    } else if (s.dcsViewPresent()) {
      boolean sync = NodeFacts.isSyncStandby(s);
      boolean quorum = NodeFacts.isQuorumStandby(s);
      ok = switch (p) {
        case "/sync", "/synchronous" -> sync && replicaOk;
        case "/quorum" -> quorum && replicaOk;
        case "/async", "/asynchronous" -> !sync && !quorum && replicaOk;
        case "/read-only-quorum" -> primary || standbyLeader || quorum && replicaOk;
        case "/read-only-sync", "/read-only-synchronous" -> primary || standbyLeader || sync && replicaOk;
        default -> false;
      };
    } else {
      ok = false;
    }

    if (ok && checkTags && !tagsMatch(query, s)) {
      ok = false;
    }
    return ok ? OK : UNAVAILABLE;
  }

  /**
   * role {@code replica}, postgres running and queryable, no {@code noloadbalance}, not lagging; and (pgha's addition
   * to Patroni's rule) not known to have diverged from the leader's timeline: such a replica may serve writes the
   * cluster lost with the old primary.
   */
  private static boolean replicaOk(Map<String, List<String>> query, NodeStatus s) {
    if (!NodeFacts.pgUp(s) || !NodeFacts.REPLICA.equals(s.role()) || s.noloadbalance() || isLagging(query, s)
        || s.diverged()) {
      return false;
    }
    String wantedState = first(query, "replication_state");
    return wantedState == null || wantedState.equals(s.replicationState());
  }

  /** {@code max(optime, …) > replayed_location + lag}; an absent or invalid {@code lag} is no limit. */
  static boolean isLagging(Map<String, List<String>> query, NodeStatus s) {
    Long lag = ByteSize.parse(first(query, "lag"));
    if (lag == null || s.optime() == 0) {
      return false;
    }
    long replayed = s.pgQueryable() && s.replayedLocation() != null ? s.replayedLocation() : 0L;
    // optime - replayed cannot overflow for LSNs (both in [0, 2^63)); the sum replayed + lag could
    return s.optime() - replayed > lag;
  }

  /**
   * Each {@code tag_<k>=<v>} must equal the node's tag {@code k}; a non-string tag compares as lower-case text
   * ({@code true}, {@code 1.4}); a missing tag fails (false booleans are not published, so
   * {@code tag_nofailover=false} fails too).
   */
  private static boolean tagsMatch(Map<String, List<String>> query, NodeStatus s) {
    if (query == null || query.isEmpty()) {
      return true;
    }
    for (Map.Entry<String, List<String>> e : query.entrySet()) {
      if (!e.getKey().startsWith(TAG_PREFIX)) {
        continue;
      }
      String wanted = firstNonBlank(e.getValue());
      if (wanted == null) {
        continue; // parse_qs drops blank values: `?tag_x=` is no filter
      }
      JsonNode tag = s.tags() == null ? null : s.tags().get(e.getKey().substring(TAG_PREFIX.length()));
      if (tag == null || tag.isNull() || tag.isMissingNode() || !wanted.equals(tagText(tag))) {
        return false;
      }
    }
    return true;
  }

  private static String tagText(JsonNode tag) {
    if (tag.isTextual()) {
      return tag.textValue();
    }
    return (tag.isValueNode() ? tag.asText() : tag.toString()).toLowerCase(java.util.Locale.ROOT);
  }

  private static String first(Map<String, List<String>> query, String key) {
    return query == null ? null : firstNonBlank(query.get(key));
  }

  private static String firstNonBlank(List<String> values) {
    if (values != null) {
      for (String v : values) {
        if (v != null && !v.isEmpty()) {
          return v;
        }
      }
    }
    return null;
  }
}
