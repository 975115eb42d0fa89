package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.guard.FencingGuard;
import io.pgha.launch.LocalCluster;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fencing guard on real ZooKeeper and PostgreSQL, three members (ttl 10, loop_wait 2, retry_timeout 3), a writer
 * on every member recording when each INSERT was acknowledged:
 * <ol>
 *   <li>healthy operation and a switchover: no fire anywhere, the guard armed on the leader only;</li>
 *   <li>the leader's agent frozen (SIGSTOP of the agent only) for 2 × ttl: its postgres is gone before its leader key
 *       leaves ZooKeeper, the old primary acknowledges nothing after the new primary's first write, and after SIGCONT
 *       the member streams from the new leader within 30 s;</li>
 *   <li>the same with the leader's agent SIGKILLed alone and started again after 2 × ttl.</li>
 * </ol>
 */
@Tag("integration")
class FencingGuardIT {
  private static final Duration FREEZE = Duration.ofSeconds(2L * TestCluster.TIMING.ttlSeconds());
  private static final Duration REJOIN_MAX = Duration.ofSeconds(30);
  private static final Pattern FIRES = Pattern.compile("^pgha_fencing_guard_fires_total\\{[^}]*} (\\S+)$",
      Pattern.MULTILINE);
  private static final Pattern ARMED = Pattern.compile("^pgha_fencing_guard_armed\\{[^}]*} (\\S+)$",
      Pattern.MULTILINE);

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void theGuardFencesAFrozenOrDeadAgentsPrimaryBeforeItsKeyExpires() throws Exception {
    TestCluster cluster = clusters.start("guard", 3);
    String first = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    cluster.createWritesTable(first);

    // 1. healthy: armed on the leader only; a switchover hands over without a fire
    awaitGauge(cluster, first, ARMED, 1);
    String candidate = cluster.memberNames().stream().filter(n -> !n.equals(first)).findFirst().orElseThrow();
    HttpResponse<String> answer = cluster.post(first, "/switchover",
        "{\"leader\": \"" + first + "\", \"candidate\": \"" + candidate + "\"}", Duration.ofSeconds(30));
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    cluster.awaitWritable(candidate, Duration.ofSeconds(30));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(60));
    awaitGauge(cluster, candidate, ARMED, 1);
    for (String name : cluster.memberNames()) {
      assertThat(metric(cluster, name, FIRES)).as("fires on %s in healthy operation", name).isEqualTo(0);
      if (!name.equals(candidate)) assertThat(metric(cluster, name, ARMED)).as("armed on replica %s", name).isEqualTo(0);
    }

    try (CuratorFramework zk = CuratorFrameworkFactory.newClient(cluster.zookeeper().connectString(), 5000, 2000,
        new RetryOneTime(100))) {
      zk.start();
      zk.blockUntilConnected(10, TimeUnit.SECONDS);
      String leaderPath = cluster.member(candidate).basePath() + "/leader";

      // 2. the leader's agent frozen for 2 x ttl
      String frozen = candidate;
      Fault freeze = inject(cluster, zk, leaderPath, frozen, () -> LocalCluster.signal(cluster.agent(frozen).pid(), "STOP"));
      LocalCluster.signal(cluster.agent(frozen).pid(), "CONT");
      long resumedAt = System.nanoTime();
      cluster.awaitStreamingFrom(frozen, freeze.newLeader, REJOIN_MAX);
      System.out.printf("FencingGuardIT: frozen agent: rejoined as a streaming replica %d ms after SIGCONT%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - resumedAt));
      awaitGauge(cluster, frozen, FIRES, 1);

      // 3. the leader's agent SIGKILLed, postgres left running, the agent started again after 2 x ttl
      String killed = freeze.newLeader;
      Fault kill = inject(cluster, zk, leaderPath, killed, () -> cluster.killAgent(killed));
      cluster.restartAgent(killed);
      long restartedAt = System.nanoTime();
      cluster.awaitStreamingFrom(killed, kill.newLeader, REJOIN_MAX);
      System.out.printf("FencingGuardIT: killed agent: rejoined as a streaming replica %d ms after its restart%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt));
      awaitGauge(cluster, killed, FIRES, 1);
      for (String name : cluster.memberNames()) {
        if (!name.equals(frozen) && !name.equals(killed)) {
          assertThat(metric(cluster, name, FIRES)).as("fires on %s, never fenced", name).isEqualTo(0);
        }
      }
    }
  }

  record Fault(String newLeader) {}

  /**
   * Writers on every member, then {@code fault} on {@code victim} (the leader); waits for a new leader and for
   * {@link #FREEZE} to pass, and checks the order of events: the victim's postgres gone, then its key, and no write
   * acknowledged by the victim after the new leader's first.
   */
  private Fault inject(TestCluster cluster, CuratorFramework zk, String leaderPath, String victim, Runnable fault)
      throws Exception {
    assertThat(cluster.leader()).contains(victim);
    long postmaster = cluster.postmasterPid(victim).orElseThrow();
    Ledger ledger = new Ledger(cluster);
    AtomicLong keyGoneAt = new AtomicLong();
    AtomicLong postgresGoneAt = new AtomicLong();
    AtomicBoolean watching = new AtomicBoolean(true);
    Thread keyWatch = watch("key", watching, () -> {
      if (keyGoneAt.get() == 0 && !victim.equals(leaderOf(zk, leaderPath))) keyGoneAt.set(System.nanoTime());
    });
    Thread postgresWatch = watch("postgres", watching, () -> {
      if (postgresGoneAt.get() == 0 && FencingGuard.startTimeOf(postmaster) < 0) postgresGoneAt.set(System.nanoTime());
    });
    String newLeader;
    long faultAt;
    try {
      ledger.awaitAck(victim, Duration.ofSeconds(10));
      faultAt = System.nanoTime();
      fault.run();
      newLeader = cluster.awaitLeaderOtherThan(victim, Duration.ofSeconds(40));
      ledger.awaitAck(newLeader, Duration.ofSeconds(20));
      long left = faultAt + FREEZE.toNanos() - System.nanoTime();
      if (left > 0) Thread.sleep(TimeUnit.NANOSECONDS.toMillis(left));
    } finally {
      watching.set(false);
      keyWatch.join();
      postgresWatch.join();
      ledger.stop();
    }
    long newFirstAck = ledger.firstAck(newLeader);
    List<Long> lateAcks = ledger.acks(victim).stream().filter(t -> t > newFirstAck).toList();
    long victimLastAck = ledger.acks(victim).stream().mapToLong(Long::longValue).max().orElse(faultAt);
    System.out.printf("FencingGuardIT: fault on %s: postgres gone %d ms after the fault, leader key gone %d ms"
            + " after it (%d ms later); last ack by the old primary %d ms, first by %s %d ms after it;"
            + " %d acks by the old primary after the new one's first%n",
        victim, ms(postgresGoneAt.get() - faultAt), ms(keyGoneAt.get() - faultAt),
        ms(keyGoneAt.get() - postgresGoneAt.get()), ms(victimLastAck - faultAt), newLeader,
        ms(newFirstAck - faultAt), lateAcks.size());
    assertThat(postgresGoneAt.get()).as("the old primary's postgres was fenced").isNotZero();
    assertThat(keyGoneAt.get()).as("the leader key left ZooKeeper").isNotZero();
    assertThat(postgresGoneAt.get()).as("postgres gone before the key").isLessThan(keyGoneAt.get());
    assertThat(lateAcks).as("writes acknowledged by the old primary after the new one's first").isEmpty();
    return new Fault(newLeader);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static String leaderOf(CuratorFramework zk, String path) {
    try {
      return new String(zk.getData().forPath(path), StandardCharsets.UTF_8);
    } catch (KeeperException.NoNodeException e) {
      return null;
    } catch (Exception e) {
      return "?"; // unknown: not counted as gone
    }
  }

  private static Thread watch(String what, AtomicBoolean watching, Runnable check) {
    Thread t = new Thread(() -> {
      long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (watching.get() && System.nanoTime() < until) {
        check.run();
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "watch-" + what);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** A writer per member, each INSERTing every 50 ms on its own connections, recording each acknowledgement. */
  static final class Ledger {
    private final Map<String, List<Long>> acks = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> writers = new ArrayList<>();

    Ledger(TestCluster cluster) {
      for (String name : cluster.memberNames()) {
        List<Long> mine = new CopyOnWriteArrayList<>();
        acks.put(name, mine);
        Thread t = new Thread(() -> {
          long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
          while (running.get() && System.nanoTime() < until) {
            if (cluster.tryWrite(name)) mine.add(System.nanoTime());
            try {
              Thread.sleep(50);
            } catch (InterruptedException e) {
              return;
            }
          }
        }, "writer-" + name);
        t.setDaemon(true);
        t.start();
        writers.add(t);
      }
    }

    List<Long> acks(String name) {
      return acks.get(name);
    }

    long firstAck(String name) {
      return acks.get(name).stream().mapToLong(Long::longValue).min().orElseThrow();
    }

    void awaitAck(String name, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (acks.get(name).isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
      assertThat(acks.get(name)).as("writes acknowledged by " + name).isNotEmpty();
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : writers) t.join(10_000);
    }
  }

  private static void awaitGauge(TestCluster cluster, String name, Pattern meter, double value) {
    cluster.await(name + " " + meter.pattern() + " = " + value, Duration.ofSeconds(15),
        () -> metric(cluster, name, meter) == value);
  }

  private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  /** One meter from {@code name}'s /metrics; NaN when it does not answer within 3 s. */
  private static double metric(TestCluster cluster, String name, Pattern meter) {
    try {
      HttpResponse<String> answer = HTTP.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(cluster.member(name).restBase() + "/metrics")).timeout(Duration.ofSeconds(3)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (answer.statusCode() != 200) return Double.NaN;
      Matcher m = meter.matcher(answer.body());
      return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    } catch (java.io.IOException e) {
      return Double.NaN;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Double.NaN;
    }
  }
}
