package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.kube.KubeApi;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The built-in role labeller on a real three-member cluster (ZooKeeper DCS) against Fabric8's mock Kubernetes API:
 * each agent patches its own pod's {@code role} label; the labels follow the bootstrap, a switchover and a failover
 * (leader's agent and postmaster SIGKILLed), and the old leader, restarted, is labelled replica again.
 */
@Tag("integration")
class KubeLabelsIT {
  private static final String NS = "pgha-it";
  /** From the status change to the label on the API server: one patch on loopback, well under a second. */
  private static final Duration LABEL_MAX = Duration.ofSeconds(5);

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  private KubeApi api;

  @AfterEach
  void stopApi() {
    if (api != null) {
      api.close();
    }
  }

  @Test
  void labelsFollowBootstrapSwitchoverAndFailover() throws Exception {
    api = KubeApi.onFreePort().start();
    for (String pod : List.of("m0", "m1", "m2")) {
      api.createPod(NS, pod, Map.of("application", "pgha"));
    }
    TestCluster cluster = clusters.start("kube", 3, (name, yaml) -> {
      ObjectNode k = yaml.putObject("kubernetes");
      k.put("namespace", NS);
      k.put("api_url", api.url());
      k.putObject("labels").put("cluster-name", "kube");
      // the commit time of every write (pg_xact_commit_timestamp), taken before postgres acknowledges it
      ((ObjectNode) yaml.path("bootstrap").path("dcs").path("postgresql").path("parameters"))
          .put("track_commit_timestamp", "on");
    });
    List<String> names = cluster.memberNames();

    // bootstrap
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    awaitRoles(cluster, leader, names, "bootstrap");
    assertThat(api.labels(NS, leader)).containsEntry("cluster-name", "kube").containsEntry("application", "pgha");

    // switchover, with writes tried on the leader and the candidate all along (each INSERT records the server's now())
    cluster.createWritesTable(leader);
    String candidate = names.stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
    Writers switchoverWrites = new Writers(cluster, List.of(leader, candidate));
    long switchoverStarted = System.currentTimeMillis();
    HttpResponse<String> answer = cluster.post(leader, "/switchover",
        "{\"leader\": \"" + leader + "\", \"candidate\": \"" + candidate + "\"}", Duration.ofSeconds(60));
    long answeredAt = System.nanoTime();
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    cluster.await(candidate + " labelled primary", LABEL_MAX,
        () -> "primary".equals(api.labels(NS, candidate).get("role")));
    System.out.println("KubeLabelsIT: switchover: " + candidate + " labelled primary "
        + Duration.ofNanos(System.nanoTime() - answeredAt).toMillis() + " ms after the answer");
    labelledBeforeWrites(cluster, candidate, "switchover");
    switchoverWrites.close();
    labelledBeforeFirstWrite(cluster, candidate, switchoverStarted, "switchover");
    oldPrimaryRelabelled(cluster, leader, candidate, switchoverStarted, switchoverWrites);
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    awaitRoles(cluster, candidate, names, "switchover");

    // failover: the leader's agent and postmaster die together (writes tried on the two others all along)
    Writers failoverWrites = new Writers(cluster, names.stream().filter(n -> !n.equals(candidate)).toList());
    long failoverStarted = System.currentTimeMillis();
    cluster.killAgent(candidate);
    cluster.killPostmaster(candidate);
    String newLeader = cluster.awaitLeaderOtherThan(candidate, Duration.ofSeconds(60));
    long promotedAt = System.nanoTime();
    cluster.await(newLeader + " labelled primary", LABEL_MAX,
        () -> "primary".equals(api.labels(NS, newLeader).get("role")));
    System.out.println("KubeLabelsIT: failover: " + newLeader + " labelled primary "
        + Duration.ofNanos(System.nanoTime() - promotedAt).toMillis() + " ms after the leader key changed");
    labelledBeforeWrites(cluster, newLeader, "failover");
    failoverWrites.close();
    labelledBeforeFirstWrite(cluster, newLeader, failoverStarted, "failover");
    String third = names.stream().filter(n -> !n.equals(candidate) && !n.equals(newLeader)).findFirst().orElseThrow();
    cluster.await(third + " labelled replica", Duration.ofSeconds(60),
        () -> "replica".equals(api.labels(NS, third).get("role")));
    // the dead agent cannot relabel its pod (in Kubernetes its readiness probe takes it out of the Services)
    assertThat(api.labels(NS, candidate)).containsEntry("role", "primary");

    cluster.restartAgent(candidate);
    cluster.awaitStreamingFrom(candidate, newLeader, Duration.ofSeconds(120));
    awaitRoles(cluster, newLeader, names, "rejoin");
  }

  /**
   * The order of a promotion as the API server and the agent's log saw it: the Promote decision (logged before
   * pg_promote() is called), the PATCH labelling the pod primary arriving at the API server, and pg_promote()
   * returning ("postgres accepts writes"). The label request must arrive before the promote returns, i.e. while
   * postgres is still promoting or at most one pg_promote() poll (100 ms) after it accepted its first write.
   */
  private void labelledBeforeWrites(TestCluster cluster, String member, String when) throws Exception {
    // the label now moves on the decision, so the caller can get here while pg_promote() still runs: wait (bounded)
    // for the promote's own line before comparing
    List<String> log = java.nio.file.Files.readAllLines(cluster.member(member).logFile());
    long decided = lastLogLine(log, "action=Promote ");
    long promoted = lastLogLine(log, "postgres accepts writes");
    long waitUntil = System.currentTimeMillis() + 30_000;
    while (decided > 0 && promoted < decided && System.currentTimeMillis() < waitUntil) {
      Thread.sleep(100);
      log = java.nio.file.Files.readAllLines(cluster.member(member).logFile());
      promoted = lastLogLine(log, "postgres accepts writes");
    }
    assertThat(decided).as(when + ": " + member + "'s Promote decision in its log").isPositive();
    assertThat(promoted).as(when + ": " + member + "'s promote in its log").isGreaterThanOrEqualTo(decided);
    long patched = api.patches().stream()
        .filter(p -> p.path().endsWith("/pods/" + member) && p.body().contains("\"role\":\"primary\"")
            && p.atEpochMs() >= decided - 1000)
        .mapToLong(KubeApi.Patch::atEpochMs).min().orElse(-1);
    System.out.printf("KubeLabelsIT: %s: %s decided to promote, the primary label reached the API server %+d ms,"
        + " pg_promote returned %+d ms%n", when, member, patched - decided, promoted - decided);
    assertThat(patched).as(when + ": a PATCH labelling " + member + " primary").isPositive();
    assertThat(patched).as(when + ": the primary label reaches the API server before postgres is promoted")
        .isLessThanOrEqualTo(promoted);
  }

  /**
   * The PATCH labelling {@code member} primary reached the API server before the first write postgres accepted on
   * it (the earliest row it wrote since {@code sinceMs}: its transaction's {@code now()}, taken when the INSERT
   * started, so before that write was acknowledged). Not a guarantee of the design (the label is sent on the Promote
   * decision, concurrently with pg_promote(), and never waited for): the order this test shows is the race the
   * label wins by the length of the promote, on an API server that answers.
   */
  private void labelledBeforeFirstWrite(TestCluster cluster, String member, long sinceMs, String when)
      throws Exception {
    long firstWrite = writeTime(cluster, member, member, "min", sinceMs);
    long patched = api.patches().stream()
        .filter(p -> p.path().endsWith("/pods/" + member) && p.body().contains("\"role\":\"primary\"")
            && p.atEpochMs() >= sinceMs)
        .mapToLong(KubeApi.Patch::atEpochMs).min().orElse(-1);
    System.out.printf("KubeLabelsIT: %s: %s labelled primary at %+d ms, its first accepted write at %+d ms%n", when,
        member, patched - sinceMs, firstWrite - sinceMs);
    assertThat(firstWrite).as(when + ": a write accepted on " + member).isPositive();
    assertThat(patched).as(when + ": a PATCH labelling " + member + " primary").isPositive();
    assertThat(patched).as(when + ": the primary label reached the API server before " + member + "'s first write")
        .isLessThan(firstWrite);
  }

  /**
   * The old primary of a switchover: the PATCH that took its primary label away (the follower label) reached the API
   * server after its last acknowledged write: the label moves only once its postmaster has stopped, so after every
   * backend was terminated (the commit time, {@code pg_xact_commit_timestamp}, is taken before postgres acknowledges
   * the commit; read on the new primary, where the old one's writes replicated). And before the new primary's label
   * (the new primary is labelled only after the old one stopped postgres and released the key; both PATCHes are
   * fire-and-forget, so this is the order on an API server that answers).
   */
  private void oldPrimaryRelabelled(TestCluster cluster, String old, String next, long sinceMs, Writers writes)
      throws Exception {
    Object v = cluster.sql(next, "SELECT (extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) * 1000)::bigint AS t"
        + " FROM pgha_it_writes WHERE member = '" + old + "' AND at >= to_timestamp(" + sinceMs + " / 1000.0)")
        .get(0).get("t");
    long lastCommit = v == null ? -1 : ((Number) v).longValue();
    long relabelled = firstPatch(old, "\"role\":\"replica\"", sinceMs);
    long nextLabelled = firstPatch(next, "\"role\":\"primary\"", sinceMs);
    System.out.printf("KubeLabelsIT: switchover: %s's last acknowledged write committed at %+d ms (its writer saw the"
        + " last acknowledgement at %+d ms), %s labelled replica at %+d ms; %s labelled primary at %+d ms%n", old,
        lastCommit - sinceMs, writes.lastAcknowledged(old) - sinceMs, old, relabelled - sinceMs, next,
        nextLabelled - sinceMs);
    assertThat(lastCommit).as("switchover: a write committed on the old primary " + old).isPositive();
    assertThat(relabelled).as("switchover: a PATCH labelling the old primary " + old + " replica").isPositive();
    assertThat(relabelled).as("switchover: the old primary's follower label after its last acknowledged write")
        .isGreaterThan(lastCommit);
    assertThat(relabelled).as("switchover: the old primary's label moved before the new primary's")
        .isLessThan(nextLabelled);
  }

  private long firstPatch(String member, String bodyPart, long sinceMs) {
    return api.patches().stream()
        .filter(p -> p.path().endsWith("/pods/" + member) && p.body().contains(bodyPart) && p.atEpochMs() >= sinceMs)
        .mapToLong(KubeApi.Patch::atEpochMs).min().orElse(-1);
  }

  /** min or max of the server-side time (epoch ms) of the rows {@code writer} wrote since {@code sinceMs}; -1: none. */
  private static long writeTime(TestCluster cluster, String on, String writer, String agg, long sinceMs)
      throws Exception {
    Object v = cluster.sql(on, "SELECT (extract(epoch FROM " + agg + "(at)) * 1000)::bigint AS t FROM pgha_it_writes"
        + " WHERE member = '" + writer + "' AND at >= to_timestamp(" + sinceMs + " / 1000.0)").get(0).get("t");
    return v == null ? -1 : ((Number) v).longValue();
  }

  /** One thread per member trying an INSERT every 25 ms (each its own connection) until closed. */
  private static final class Writers implements AutoCloseable {
    private final java.util.concurrent.ExecutorService pool;
    private final Map<String, Long> lastAcknowledged = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean stop;

    Writers(TestCluster cluster, List<String> members) {
      pool = java.util.concurrent.Executors.newFixedThreadPool(members.size());
      long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos(); // bounded even if never closed
      for (String m : members) {
        pool.submit(() -> {
          while (!stop && System.nanoTime() < deadline) {
            if (cluster.tryWrite(m)) {
              lastAcknowledged.put(m, System.currentTimeMillis());
            }
            Thread.sleep(25);
          }
          return null;
        });
      }
    }

    /** Wall-clock ms when the writer last saw a write on {@code member} acknowledged; -1: never. */
    long lastAcknowledged(String member) {
      return lastAcknowledged.getOrDefault(member, -1L);
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      pool.shutdown();
      pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /** Wall-clock ms of the last line containing {@code text} (the agent logs local time, to the millisecond); -1. */
  private static long lastLogLine(List<String> log, String text) {
    java.time.format.DateTimeFormatter format = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");
    long at = -1;
    for (String line : log) {
      if (line.contains(text) && line.length() > 23) {
        try {
          at = java.time.LocalDateTime.parse(line.substring(0, 23), format).atZone(java.time.ZoneId.systemDefault())
              .toInstant().toEpochMilli();
        } catch (java.time.format.DateTimeParseException e) {
          // not a log line of the agent's own
        }
      }
    }
    return at;
  }

  private void awaitRoles(TestCluster cluster, String leader, List<String> names, String when) {
    cluster.await(when + ": " + leader + " primary, the others replica", Duration.ofSeconds(30), () -> {
      for (String n : names) {
        if (!(n.equals(leader) ? "primary" : "replica").equals(api.labels(NS, n).get("role"))) {
          return false;
        }
      }
      return true;
    });
    for (String n : names) {
      assertThat(api.labels(NS, n).get("role")).as(when + ": " + n).isEqualTo(n.equals(leader) ? "primary" : "replica");
    }
  }
}
