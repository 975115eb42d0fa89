package io.pgha.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.launch.LocalCluster;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * DCS failsafe mode (issue 13.1, patroni-compat §10.2) on real ZooKeeper and PostgreSQL: three members (ttl 10,
 * loop_wait 2, {@code failsafe_mode: true}) on a three-server ensemble of their own, a writer on every member every
 * 100 ms.
 * <ol>
 *   <li>Every member up, the whole ensemble stopped (SIGSTOP) for 60 s: the primary's writer sees no error, the
 *       replicas keep streaming, {@code /patroni} and {@code /metrics} say failsafe is active; ZooKeeper back, the
 *       cluster is healthy with the same leader.
 *   <li>One replica's agent and postgres SIGKILLed, then the ensemble stopped at once: the primary cannot get every
 *       listed member's {@code Accepted}, so it stops taking writes within the bound it has without failsafe (its
 *       last confirmation + session timeout); healthy again once ZooKeeper and the replica are back.
 * </ol>
 * Throughout: one writer at a time (the fault suite's single-writer check over every acknowledged commit).
 */
@Tag("integration")
class FailsafeIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("pgha.failsafe.outage.seconds", 60));
  private final long epoch = System.nanoTime();

  private double nowMs() {
    return (System.nanoTime() - epoch) / 1e6;
  }

  @Test
  void primaryOutlivesAZooKeeperOutageOnlyWhileEveryMemberAccepts() throws Exception {
    String jarProperty = System.getProperty("pgha.jar");
    assertThat(jarProperty).as("system property pgha.jar (run with mvn verify)").isNotNull();
    Path jar = Path.of(jarProperty);
    String tmp = System.getProperty("pgha.it.tmp");
    Path base = tmp != null ? Path.of(tmp) : jar.getParent();
    Files.createDirectories(base);
    Path dir = Files.createTempDirectory(base, "failsafe-");
    dir.toFile().setWritable(true, false);
    dir.toFile().setExecutable(true, false);
    Vertx vertx = Vertx.vertx();
    Ledger ledger = new Ledger();
    Writers writers = null;
    try (FaultCluster cluster = FaultCluster.start(FaultCluster.Agent.PGHA, false, true, jar, dir, vertx)) {
      Checks.Health health = Checks.awaitHealthy(cluster, Duration.ofSeconds(120));
      assertThat(health.healthy()).as("bootstrap: " + health.why() + "\n" + cluster.logTails(30)).isTrue();
      String leader = health.leader();
      List<String> replicas = cluster.names().stream().filter(n -> !n.equals(leader)).toList();
      cluster.sql(leader, Writers.createTable());
      writers = new Writers(vertx, ledger, this::nowMs, new AtomicLong(), cluster.members());
      assertThat(awaitFailsafeKeyLists(cluster, cluster.names(), Duration.ofSeconds(30)))
          .as("failsafe key lists every member").isTrue();
      LocalCluster.sleep(Duration.ofSeconds(3));

      // (a) every member up: the primary keeps taking writes through the whole outage
      double outageStart = nowMs();
      cluster.ensemble().servers().forEach(ZkEnsemble.Server::freeze);
      boolean patroniSaysActive = false;
      boolean metricSaysActive = false;
      boolean failsafeGetListsAll = false;
      List<String> notStreaming = new ArrayList<>();
      try {
        long endNanos = System.nanoTime() + OUTAGE.toNanos();
        while (System.nanoTime() < endNanos) {
          LocalCluster.sleep(Duration.ofSeconds(2));
          if (nowMs() - outageStart > 20_000) {
            // each read until it has said yes once (a read can time out on a loaded machine)
            patroniSaysActive = patroniSaysActive || cluster.patroni(leader)
                .map(p -> p.path("failsafe_mode_is_active").asBoolean(false)).orElse(false);
            metricSaysActive = metricSaysActive || cluster.get(leader, "/metrics").map(r -> r.body().lines()
                .filter(l -> l.endsWith(" 1"))
                .filter(l -> l.startsWith("patroni_failsafe_mode_is_active{")
                    || l.startsWith("patroni_failsafe_mode_enabled{") || l.startsWith("patroni_failsafe_member{"))
                .count() == 3).orElse(false);
            // GET /failsafe answers the key as last read, ZooKeeper or not
            failsafeGetListsAll = failsafeGetListsAll || getFailsafeLists(cluster, leader, cluster.names());
          }
        }
        for (String replica : replicas) {
          String status = walReceiverStatus(cluster, replica);
          if (!"streaming".equals(status)) notStreaming.add(replica + ": " + status);
        }
      } finally {
        cluster.ensemble().servers().forEach(ZkEnsemble.Server::thaw);
      }
      double outageEnd = nowMs();
      long primaryErrors = writers.failuresBetween(leader, outageStart, outageEnd);
      long primaryAcks = ledger.between(outageStart, outageEnd).stream().filter(a -> a.member().equals(leader)).count();
      System.out.printf("failsafe (a): outage %.1f s, primary %s: %d writes acknowledged, %d failed; replicas not"
          + " streaming at the end: %s%n", (outageEnd - outageStart) / 1000, leader, primaryAcks, primaryErrors,
          notStreaming);
      assertThat(primaryErrors).as("failed writes on the primary during the outage\n" + cluster.logTails(40))
          .isZero();
      assertThat(primaryAcks).as("writes acknowledged by the primary during the outage")
          .isGreaterThan((long) (OUTAGE.toMillis() / 100 * 0.8));
      assertThat(notStreaming).as("replicas streaming at the end of the outage").isEmpty();
      assertThat(patroniSaysActive).as("/patroni failsafe_mode_is_active during the outage").isTrue();
      assertThat(metricSaysActive).as("patroni_failsafe_mode_is_active, _enabled and _member 1 during the outage")
          .isTrue();
      assertThat(failsafeGetListsAll).as("GET /failsafe lists every member during the outage").isTrue();
      Checks.Health after = Checks.awaitHealthy(cluster, Duration.ofSeconds(60));
      double healedA = nowMs();
      assertThat(after.healthy()).as("healthy after ZooKeeper is back: " + after.why() + "\n" + cluster.logTails(40))
          .isTrue();
      assertThat(after.leader()).as("same leader").isEqualTo(leader);
      System.out.printf("failsafe (a): healthy %.1f s after ZooKeeper was back, leader %s%n",
          (healedA - outageEnd) / 1000, after.leader());

      // (b) one replica dead, then the outage: the primary must stop as it would without failsafe
      String dead = replicas.get(0);
      // after the outage every member key is made again: the leader rewrites the failsafe key as they come back, so
      // wait until it lists everyone in two reads 4 s (two loop_waits) apart
      boolean stable = false;
      for (int i = 0; i < 10 && !stable; i++) {
        stable = awaitFailsafeKeyLists(cluster, cluster.names(), Duration.ofSeconds(30));
        LocalCluster.sleep(Duration.ofSeconds(4));
        stable = stable && awaitFailsafeKeyLists(cluster, cluster.names(), Duration.ofMillis(1));
      }
      assertThat(stable).as("failsafe key lists every member, stably").isTrue();
      cluster.killNode(dead);
      // the key as the ensemble is stopped is the key the primary goes by through the outage: a stopped ensemble
      // cannot change it. Read it now, not after the thaw: by then the dead member's session may have expired and
      // the leader rightly dropped it from the key.
      boolean keyListedDeadAtFreeze = awaitFailsafeKeyLists(cluster, cluster.names(), Duration.ofMillis(1));
      double outageB = nowMs();
      cluster.ensemble().servers().forEach(ZkEnsemble.Server::freeze);
      double lastAck;
      try {
        LocalCluster.sleep(Duration.ofSeconds(20));
      } finally {
        cluster.ensemble().servers().forEach(ZkEnsemble.Server::thaw);
      }
      double outageBEnd = nowMs();
      // the precondition of (b): the key the primary went by during the outage listed the dead member
      assertThat(keyListedDeadAtFreeze)
          .as("failsafe key lists %s as the ensemble stops (else (b) did not test what it means to)", dead).isTrue();
      lastAck = ledger.between(outageB, outageBEnd).stream().filter(a -> a.member().equals(leader))
          .mapToDouble(Ledger.Ack::ackMs).max().orElse(outageB);
      long ttlMs = FaultCluster.TIMING.ttlSeconds() * 1000L;
      System.out.printf("failsafe (b): %s killed, primary %s took its last write %.1f s into the outage (bound: ttl"
          + " %d s)%n", dead, leader, (lastAck - outageB) / 1000, ttlMs / 1000);
      assertThat(lastAck - outageB).as("the primary stops taking writes within ttl of the outage\n"
          + cluster.logTails(40)).isLessThan(ttlMs);
      cluster.startAgent(dead);
      Checks.Health healedB = Checks.awaitHealthy(cluster, Duration.ofSeconds(90));
      assertThat(healedB.healthy()).as("healthy after (b): " + healedB.why() + "\n" + cluster.logTails(40)).isTrue();
      LocalCluster.sleep(Duration.ofSeconds(2));

      // single writer over everything acknowledged
      Ledger.SingleWriter single = Ledger.singleWriter(ledger.between(0, nowMs()), leader);
      System.out.printf("failsafe: single-writer violations %d, takeovers %s%n", single.violations(),
          single.takeovers());
      assertThat(single.violations()).as("writes acknowledged by a replaced primary").isZero();
      assertThat(cluster.agentsExitedByThemselves()).as("agents that exited by themselves").isEmpty();
    } finally {
      if (writers != null) writers.close();
      vertx.close();
    }
  }

  private static boolean awaitFailsafeKeyLists(FaultCluster cluster, List<String> names, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<String> key = cluster.key("failsafe");
      if (key.isPresent()) {
        try {
          JsonNode node = JSON.readTree(key.get());
          if (node.isObject() && names.stream().allMatch(node::has) && node.size() == names.size()) return true;
        } catch (Exception e) {
          // not JSON yet
        }
      }
      LocalCluster.sleep(Duration.ofMillis(500));
    }
    return false;
  }

  private static boolean getFailsafeLists(FaultCluster cluster, String member, List<String> names) {
    return cluster.get(member, "/failsafe").filter(r -> r.statusCode() == 200).map(r -> {
      try {
        JsonNode node = JSON.readTree(r.body());
        return names.stream().allMatch(node::has);
      } catch (Exception e) {
        return false;
      }
    }).orElse(false);
  }

  private static String walReceiverStatus(FaultCluster cluster, String member) {
    try {
      var rows = cluster.sql(member, "SELECT status FROM pg_stat_wal_receiver");
      return rows.isEmpty() ? "no walreceiver" : String.valueOf(rows.get(0).get("status"));
    } catch (Exception e) {
      return "error: " + e.getMessage();
    }
  }
}
