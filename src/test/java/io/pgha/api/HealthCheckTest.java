package io.pgha.api;

import static io.pgha.api.Statuses.LSN;
import static io.pgha.api.Statuses.leader;
import static io.pgha.api.Statuses.replica;
import static io.pgha.api.Statuses.tags;
import static io.pgha.api.Statuses.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.pgha.model.NodeStatus;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HealthCheckTest {

  private static final NodeStatus LEADER = leader();
  private static final NodeStatus REPLICA = replica();

  /** What Patroni 3.0.2 answered (reference rest/{leader,replica}/index.json), every health-check path. */
  static Stream<Arguments> reference() {
    Object[][] rows = {
        // path, leader, replica
        {"/", 200, 503},
        {"/primary", 200, 503},
        {"/master", 200, 503},
        {"/read-write", 200, 503},
        {"/leader", 200, 503},
        {"/replica", 503, 200},
        {"/health", 200, 200},
        {"/read-only", 200, 200},
        {"/standby-leader", 503, 503},
        {"/standby_leader", 503, 503},
        {"/sync", 503, 503},
        {"/synchronous", 503, 503},
        {"/async", 503, 200},
        {"/asynchronous", 503, 200},
        {"/read-only-sync", 200, 503},
        {"/replica?lag=1MB", 503, 200},
        {"/replica?tag_nofailover=false", 503, 503},
        {"/nonexistent", 503, 503},
    };
    List<Arguments> args = new ArrayList<>();
    for (Object[] row : rows) {
      args.add(arguments("3.0.2 leader", LEADER, row[0], row[1]));
      args.add(arguments("3.0.2 replica", REPLICA, row[0], row[2]));
    }
    return args.stream();
  }

  static Stream<Arguments> cases() {
    NodeStatus stoppedLeader = with(LEADER, "state", "stopped", "pgQueryable", false);
    NodeStatus unqueryableLeader = with(LEADER, "pgQueryable", false);
    NodeStatus startingLeader = with(LEADER, "state", "starting");
    NodeStatus lagging = with(REPLICA, "optime", LSN + 2 * 1024 * 1024);
    NodeStatus noLb = with(REPLICA, "noloadbalance", true);
    NodeStatus noLbLeader = with(LEADER, "noloadbalance", true);
    NodeStatus tagged = with(REPLICA,
        "tags", tags("{\"nofailover\":true,\"zone\":\"eu-1\",\"weight\":1.4,\"priority\":5}"));
    NodeStatus taggedLeader = with(LEADER, "tags", tags("{\"zone\":\"eu-1\"}"));
    NodeStatus standbyLeader = with(REPLICA, "role", "standby_leader", "leaderLockHeld", true);
    NodeStatus sync = with(REPLICA, "syncStandby", true);
    NodeStatus quorum = with(REPLICA, "quorumStandby", true);
    NodeStatus pausedNoView = with(LEADER, "paused", true, "dcsViewPresent", false, "leaderLockHeld", false);
    NodeStatus streaming = with(REPLICA, "replicationState", "streaming");
    return Stream.of(
        // never stale (deliberate deviation from Patroni): lock held but postgres down => leader endpoints 503
        arguments("stopped leader", stoppedLeader, "/", 503),
        arguments("stopped leader", stoppedLeader, "/primary", 503),
        arguments("stopped leader", stoppedLeader, "/master", 503),
        arguments("stopped leader", stoppedLeader, "/read-write", 503),
        arguments("stopped leader", stoppedLeader, "/leader", 503),
        arguments("stopped leader", stoppedLeader, "/read-only", 503),
        arguments("stopped leader", stoppedLeader, "/read-only-sync", 503),
        arguments("stopped leader", stoppedLeader, "/health", 503),
        arguments("stopped leader", stoppedLeader, "/replica", 503),
        arguments("running, query failed", unqueryableLeader, "/primary", 503),
        arguments("running, query failed", unqueryableLeader, "/leader", 503),
        arguments("running, query failed", unqueryableLeader, "/health", 503),
        arguments("starting leader", startingLeader, "/primary", 503),
        arguments("replica, query failed", with(REPLICA, "pgQueryable", false), "/replica", 503),
        arguments("stopped replica", with(REPLICA, "state", "stopped", "pgQueryable", false), "/read-only", 503),
        // lag
        arguments("lagging 2MB", lagging, "/replica", 200),
        arguments("lagging 2MB", lagging, "/replica?lag=1MB", 503),
        arguments("lagging 2MB", lagging, "/replica?lag=16kB", 503),
        arguments("lagging 2MB", lagging, "/replica?lag=3MB", 200),
        arguments("lagging 2MB", lagging, "/replica?lag=1GB", 200),
        arguments("lagging 2MB", lagging, "/replica?lag=2097152", 200),
        arguments("lagging 2MB", lagging, "/replica?lag=2097151", 503),
        arguments("lagging 2MB", lagging, "/replica?lag=nonsense", 200),
        arguments("lagging 2MB", lagging, "/replica?lag=1mb", 200),
        arguments("lagging 2MB", lagging, "/replica?lag=", 200),
        arguments("lagging 2MB", lagging, "/async?lag=1MB", 503),
        arguments("lagging 2MB", lagging, "/read-only?lag=1MB", 503),
        arguments("lagging 2MB", lagging, "/health?lag=1MB", 200),
        arguments("optime unknown", with(REPLICA, "optime", 0L), "/replica?lag=0", 200),
        arguments("caught up", REPLICA, "/replica?lag=0", 200),
        // noloadbalance
        arguments("noloadbalance replica", noLb, "/replica", 503),
        arguments("noloadbalance replica", noLb, "/read-only", 503),
        arguments("noloadbalance replica", noLb, "/async", 503),
        arguments("noloadbalance replica", noLb, "/health", 200),
        // issue 9: a replica whose WAL forked off the leader's timeline serves no reads (pgha's addition)
        arguments("diverged replica", with(REPLICA, "diverged", true), "/replica", 503),
        arguments("diverged replica", with(REPLICA, "diverged", true), "/read-only", 503),
        arguments("diverged replica", with(REPLICA, "diverged", true), "/async", 503),
        arguments("diverged replica", with(REPLICA, "diverged", true), "/health", 200),
        arguments("noloadbalance leader", noLbLeader, "/primary", 200),
        arguments("noloadbalance leader", noLbLeader, "/read-only", 200),
        // tag filters
        arguments("tagged replica", tagged, "/replica?tag_nofailover=true", 200),
        arguments("tagged replica", tagged, "/replica?tag_nofailover=True", 503),
        arguments("tagged replica", tagged, "/replica?tag_nofailover=false", 503),
        arguments("tagged replica", tagged, "/replica?tag_zone=eu-1", 200),
        arguments("tagged replica", tagged, "/replica?tag_zone=EU-1", 503),
        arguments("tagged replica", tagged, "/replica?tag_weight=1.4", 200),
        arguments("tagged replica", tagged, "/replica?tag_priority=5", 200),
        arguments("tagged replica", tagged, "/replica?tag_zone=eu-1&tag_priority=5", 200),
        arguments("tagged replica", tagged, "/replica?tag_zone=eu-1&tag_priority=6", 503),
        arguments("tagged replica", tagged, "/replica?tag_missing=x", 503),
        arguments("tagged replica", tagged, "/replica?tag_zone=", 200),
        arguments("tagged replica", tagged, "/read-only?tag_zone=eu-2", 503),
        arguments("tagged replica", tagged, "/health?tag_zone=eu-2", 503),
        arguments("tagged replica", tagged, "/primary?tag_zone=eu-1", 503),
        arguments("tagged leader", taggedLeader, "/primary?tag_missing=x", 200),
        arguments("tagged leader", taggedLeader, "/leader?tag_missing=x", 200),
        arguments("tagged leader", taggedLeader, "/?tag_zone=eu-2", 200),
        arguments("tagged leader", taggedLeader, "/read-only?tag_missing=x", 503),
        arguments("tagged leader", taggedLeader, "/read-only?tag_zone=eu-1", 200),
        arguments("tagged leader", taggedLeader, "/health?tag_zone=eu-1", 200),
        // standby cluster
        arguments("standby leader", standbyLeader, "/standby-leader", 200),
        arguments("standby leader", standbyLeader, "/standby_leader", 200),
        arguments("standby leader", standbyLeader, "/leader", 200),
        arguments("standby leader", standbyLeader, "/primary", 503),
        arguments("standby leader", standbyLeader, "/", 503),
        arguments("standby leader", standbyLeader, "/replica", 503),
        arguments("standby leader", standbyLeader, "/read-only", 200),
        arguments("standby leader", standbyLeader, "/read-only-sync", 200),
        arguments("standby leader", standbyLeader, "/standby-leader?tag_missing=x", 200),
        arguments("stopped standby leader", with(standbyLeader, "pgQueryable", false), "/standby-leader", 503),
        // synchronous replication
        arguments("sync replica", sync, "/sync", 200),
        arguments("sync replica", sync, "/synchronous", 200),
        arguments("sync replica", sync, "/async", 503),
        arguments("sync replica", sync, "/asynchronous", 503),
        arguments("sync replica", sync, "/read-only-sync", 200),
        arguments("sync replica", sync, "/read-only-synchronous", 200),
        arguments("sync replica", sync, "/quorum", 503),
        arguments("sync replica", sync, "/read-only-quorum", 503),
        arguments("sync replica", sync, "/sync/", 503),
        arguments("sync replica", sync, "/sync?lag=1MB", 200),
        arguments("sync replica", with(sync, "optime", LSN + 2 * 1024 * 1024), "/sync?lag=1MB", 503),
        arguments("sync replica, no view", with(sync, "dcsViewPresent", false), "/sync", 503),
        arguments("sync replica, no view", with(sync, "dcsViewPresent", false), "/replica", 200),
        arguments("sync replica, noloadbalance", with(sync, "noloadbalance", true), "/sync", 503),
        arguments("leader, no view", with(LEADER, "dcsViewPresent", false), "/read-only-sync", 503),
        arguments("leader, quorum", LEADER, "/read-only-quorum", 200),
        // quorum commit (§4.7): a replica listed among the voters
        arguments("quorum replica", quorum, "/quorum", 200),
        arguments("quorum replica", quorum, "/read-only-quorum", 200),
        arguments("quorum replica", quorum, "/sync", 503),
        arguments("quorum replica", quorum, "/read-only-sync", 503),
        arguments("quorum replica", quorum, "/async", 503),
        arguments("quorum replica", quorum, "/replica", 200),
        arguments("quorum replica, no view", with(quorum, "dcsViewPresent", false), "/quorum", 503),
        arguments("quorum replica, stopped", with(quorum, "pgQueryable", false), "/quorum", 503),
        arguments("replica", REPLICA, "/quorum", 503),
        // substring routing and the order of the tests
        arguments("leader", LEADER, "/foo-primary-bar", 200),
        arguments("leader", LEADER, "/leader/replica", 200),
        arguments("replica", REPLICA, "/replicas", 200),
        arguments("replica", REPLICA, "/primary-or-replica", 503),
        arguments("replica", REPLICA, "/readonly", 503),
        arguments("replica", REPLICA, "/read-only-quorum-x", 503),
        arguments("replica", REPLICA, "//", 503),
        arguments("replica", REPLICA, "/healthz", 200),
        // no view of the cluster
        arguments("paused, no view, primary", pausedNoView, "/primary", 200),
        arguments("paused, no view, primary", pausedNoView, "/leader", 200),
        arguments("paused, no view, replica", with(REPLICA, "paused", true, "dcsViewPresent", false), "/leader", 503),
        arguments("paused, view, no lock", with(pausedNoView, "dcsViewPresent", true), "/primary", 503),
        arguments("not paused, no view, no lock", with(pausedNoView, "paused", false), "/primary", 503),
        arguments("no lock, primary role", with(LEADER, "leaderLockHeld", false), "/primary", 503),
        // replication_state filter ([HEAD] in Patroni's mirror)
        arguments("streaming replica", streaming, "/replica?replication_state=streaming", 200),
        arguments("streaming replica", streaming, "/replica?replication_state=catchup", 503),
        arguments("replica, no state", REPLICA, "/replica?replication_state=streaming", 503),
        // other roles
        arguments("demoted", with(REPLICA, "role", "demoted"), "/replica", 503),
        arguments("uninitialized", with(REPLICA, "role", "uninitialized"), "/read-only", 503));
  }

  @ParameterizedTest(name = "{0}: GET {2} -> {3}")
  @MethodSource("reference")
  void reproducesPatroni302(String who, NodeStatus s, String pathAndQuery, int expected) {
    assertThat(check(pathAndQuery, s)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}: GET {2} -> {3}")
  @MethodSource("cases")
  void answers(String who, NodeStatus s, String pathAndQuery, int expected) {
    assertThat(check(pathAndQuery, s)).isEqualTo(expected);
  }

  static Stream<Arguments> sizes() {
    return Stream.of(
        arguments("123", 123L),
        arguments(" 42 ", 42L),
        arguments("16kB", 16384L),
        arguments("10MB", 10485760L),
        arguments("1GB", 1073741824L),
        arguments("1TB", 1099511627776L),
        arguments("7 B", 7L),
        arguments(" 0x400 MB ", 1073741824L),
        arguments("010", 8L),
        arguments("1.5MB", 1572864L),
        arguments("0.5kB", 512L),
        arguments("1e3", 1000L),
        arguments("2.5", 2L),
        arguments("-1", -1L),
        arguments("1mb", null),
        arguments("1 KB", null),
        arguments("08", null),
        arguments("nonsense", null),
        arguments("", null),
        arguments("99999999999TB", null));
  }

  @ParameterizedTest(name = "lag={0} -> {1}")
  @MethodSource("sizes")
  void parsesSizesAsPatroni(String text, Long bytes) {
    assertThat(ByteSize.parse(text)).isEqualTo(bytes);
  }

  static int check(String pathAndQuery, NodeStatus s) {
    int q = pathAndQuery.indexOf('?');
    String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
    Map<String, List<String>> query = new LinkedHashMap<>();
    if (q >= 0) {
      for (String pair : pathAndQuery.substring(q + 1).split("&")) {
        int eq = pair.indexOf('=');
        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        query.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
      }
    }
    return HealthCheck.status(path, query, s);
  }
}
