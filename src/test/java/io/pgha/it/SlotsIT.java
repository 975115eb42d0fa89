package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.launch.MemberConfig;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Permanent replication slots (issue 13 item 2) on real ZooKeeper and PostgreSQL: a {@code pg_receivewal} consumer on
 * the permanent physical slot {@code archiver} and a {@code test_decoding} consumer ({@code
 * pg_logical_slot_get_changes}) on the permanent logical slot {@code cdc}, across one switchover and one failover
 * (SIGKILL of the leader's agent and postmaster). Before each, pg_receivewal stops, more WAL is written, the leader
 * checkpoints and every replica makes a restartpoint; after each, the new primary switches WAL segments and
 * checkpoints 20 times with {@code wal_keep_size} at one segment, so only its copy of the slot keeps what the
 * physical consumer has not read. The logical consumer must see every row of the final table; the WAL files received must form one run of
 * segments with no hole, and pg_receivewal must never fail on a missing slot or removed WAL.
 */
@Tag("integration")
class SlotsIT {
  private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  private static final Duration READY = Duration.ofSeconds(90);
  private static final Pattern INSERT = Pattern.compile("table public\\.slots_it: INSERT: id\\[integer\\]:(\\d+)");
  private static final Pattern SEGMENT = Pattern.compile("^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\\.partial)?$");

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void physicalAndLogicalConsumersLoseNothingAcrossASwitchoverAndAFailover() throws Exception {
    TestCluster cluster = clusters.start("slots", 3, SlotsIT::configure);
    String first = cluster.awaitLeader(READY);
    cluster.awaitStreamingReplicas(2, READY);
    List<String> names = cluster.memberNames();
    cluster.createWritesTable(first);
    cluster.sql(first, "CREATE TABLE slots_it (id integer PRIMARY KEY)");

    cluster.await("archiver and cdc on the leader", READY, () -> slots(cluster, first).containsAll(
        Set.of("archiver", "cdc")));
    String leader = first;
    for (String replica : others(names, leader)) {
      cluster.await("archiver and cdc (copied) on " + replica, READY,
          () -> slots(cluster, replica).containsAll(Set.of("archiver", "cdc")));
    }
    cluster.awaitStreamingReplicas(2, READY);

    Path wal = cluster.baseDir().resolve("receivewal");
    Files.createDirectories(wal);
    LogicalConsumer logical = new LogicalConsumer(cluster);
    Receiver receiver = new Receiver(cluster, wal);
    int written = 0;
    try {
      receiver.start(leader);
      logical.start(leader);
      written = writeRows(cluster, leader, written, 200, false);
      logical.awaitAll(written);

      // switchover, with the physical consumer disconnected meanwhile
      String candidate = others(names, leader).get(0);
      awaitCaughtUp(cluster, leader, names);
      receiver.stopAndCheck();
      written = leaveConsumerBehind(cluster, leader, names, written);
      logical.awaitAll(written);
      awaitSlotAdvanced(cluster, leader, candidate);
      HttpResponse<String> answer = cluster.post(leader, "/switchover",
          "{\"leader\": \"" + leader + "\", \"candidate\": \"" + candidate + "\"}", Duration.ofSeconds(30));
      assertThat(answer.statusCode()).as("switchover: %s", answer.body()).isEqualTo(200);
      leader = candidate;
      cluster.awaitWritable(leader, Duration.ofSeconds(30));
      logical.follow(leader);
      written = writeRows(cluster, leader, written, 200, true);
      receiver.start(leader);
      logical.awaitAll(written);
      cluster.awaitStreamingReplicas(2, READY);
      written = writeRows(cluster, leader, written, 100, false);
      logical.awaitAll(written);

      // failover: the leader's machine dies, the physical consumer down meanwhile
      awaitCaughtUp(cluster, leader, names);
      receiver.stopAndCheck();
      written = leaveConsumerBehind(cluster, leader, names, written);
      logical.awaitAll(written);
      awaitCaughtUp(cluster, leader, names);
      String next = others(names, leader).get(0);
      awaitSlotAdvanced(cluster, leader, next);
      for (String replica : others(names, leader)) awaitSlotAdvanced(cluster, leader, replica);
      String dead = leader;
      cluster.killAgent(dead);
      cluster.killPostmaster(dead);
      leader = cluster.awaitLeaderOtherThan(dead, Duration.ofSeconds(60));
      cluster.awaitWritable(leader, Duration.ofSeconds(30));
      logical.follow(leader);
      written = writeRows(cluster, leader, written, 200, true);
      receiver.start(leader);
      logical.awaitAll(written);
      String last = leader;
      long target = lsn(cluster, last, "SELECT (pg_current_wal_flush_lsn() - '0/0')::bigint");
      cluster.await("pg_receivewal has the new primary's WAL up to " + target, Duration.ofSeconds(30),
          () -> receiver.flushedOn(cluster, last, target));
    } finally {
      logical.stop();
      receiver.stopAndCheck();
    }

    List<Map<String, Object>> rows = cluster.sql(leader, "SELECT count(*)::int AS n, max(id) AS m FROM slots_it");
    assertThat(rows.get(0).get("n")).as("rows on the final primary").isEqualTo(written);
    assertThat(logical.missing(written)).as("rows the logical consumer never saw").isEmpty();
    List<Long> segments = segmentNumbers(wal);
    System.out.println("SlotsIT: " + written + " rows all seen by the test_decoding consumer (" + logical.duplicates()
        + " seen twice); pg_receivewal segments " + segments.get(0) + ".." + segments.get(segments.size() - 1)
        + " on timelines " + timelines(wal) + ", receiver runs " + receiver.runs);
    for (int i = 1; i < segments.size(); i++) {
      assertThat(segments.get(i)).as("WAL segment after %s", segments.get(i - 1)).isLessThanOrEqualTo(
          segments.get(i - 1) + 1);
    }
    assertThat(timelines(wal)).as("timelines received").hasSizeGreaterThanOrEqualTo(2);
  }

  private static void configure(String name, ObjectNode yaml) {
    ObjectNode dcs = (ObjectNode) yaml.path("bootstrap").path("dcs");
    ObjectNode slots = dcs.putObject("slots");
    slots.putObject("archiver").put("type", "physical");
    slots.putObject("cdc").put("type", "logical").put("database", "postgres").put("plugin", "test_decoding");
    ObjectNode params = (ObjectNode) dcs.path("postgresql").path("parameters");
    params.put("wal_level", "logical");
    params.put("hot_standby_feedback", "on");
    params.put("wal_keep_size", "16MB"); // pgha's least: one segment
  }

  private static List<String> others(List<String> names, String leader) {
    return names.stream().filter(n -> !n.equals(leader)).toList();
  }

  private static Set<String> slots(TestCluster cluster, String name) {
    try {
      Set<String> out = new TreeSet<>();
      cluster.sql(name, "SELECT slot_name::text AS s FROM pg_replication_slots").forEach(r -> out.add((String) r.get("s")));
      return out;
    } catch (Exception e) {
      return Set.of();
    }
  }

  /** Inserts {@code count} numbered rows; {@code recycle}: switch WAL segments and checkpoint as it goes. */
  private static int writeRows(TestCluster cluster, String leader, int from, int count, boolean recycle)
      throws Exception {
    for (int i = 1; i <= count; i++) {
      cluster.sql(leader, "INSERT INTO slots_it VALUES (" + (from + i) + ")");
      // switches in the middle of a batch: a timeline must not fork exactly at a segment start, which
      // pg_receivewal cannot resume from (START_REPLICATION then answers with no stream to follow)
      if (i % (recycle ? 10 : 25) == 5) {
        cluster.sql(leader, "SELECT pg_switch_wal()");
        if (recycle) cluster.sql(leader, "CHECKPOINT");
      }
    }
    return from + count;
  }

  /**
   * With pg_receivewal stopped: 100 more rows over several segments, then a checkpoint on the leader and a restartpoint
   * (CHECKPOINT) on every replica, so that each member's own WAL retention has moved past where the consumer stopped
   * and only the slot keeps that WAL.
   */
  private static int leaveConsumerBehind(TestCluster cluster, String leader, List<String> names, int written)
      throws Exception {
    int now = writeRows(cluster, leader, written, 100, false);
    cluster.sql(leader, "CHECKPOINT");
    awaitCaughtUp(cluster, leader, names);
    for (String r : others(names, leader)) cluster.sql(r, "CHECKPOINT");
    return now;
  }

  private static long lsn(TestCluster cluster, String name, String sql) {
    try {
      Object v = cluster.sql(name, sql).get(0).values().iterator().next();
      return v == null ? 0 : ((Number) v).longValue();
    } catch (Exception e) {
      return -1;
    }
  }

  private static void awaitCaughtUp(TestCluster cluster, String leader, List<String> names) {
    long target = lsn(cluster, leader, "SELECT (pg_current_wal_flush_lsn() - '0/0')::bigint");
    for (String r : others(names, leader)) {
      cluster.await(r + " replays up to " + target, Duration.ofSeconds(30),
          () -> lsn(cluster, r, "SELECT (pg_last_wal_replay_lsn() - '0/0')::bigint") >= target);
    }
  }

  /** The replica's copies of archiver and cdc reach where the leader's slots were a moment ago (status.slots). */
  private static void awaitSlotAdvanced(TestCluster cluster, String leader, String replica) {
    long restart = lsn(cluster, leader,
        "SELECT (restart_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = 'archiver'");
    long confirmed = lsn(cluster, leader,
        "SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = 'cdc'");
    cluster.await(replica + "'s archiver slot advanced to " + restart, Duration.ofSeconds(30), () -> lsn(cluster,
        replica, "SELECT (restart_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = 'archiver'")
        >= restart);
    // up to 90 s: a copy whose WAL this replica never had is copied again after a minute
    cluster.await(replica + "'s cdc slot advanced to " + confirmed, Duration.ofSeconds(90), () -> lsn(cluster,
        replica, "SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = 'cdc'")
        >= confirmed);
  }

  private static List<Long> segmentNumbers(Path dir) throws IOException {
    TreeSet<Long> out = new TreeSet<>();
    try (Stream<Path> files = Files.list(dir)) {
      files.forEach(f -> {
        Matcher m = SEGMENT.matcher(f.getFileName().toString());
        if (m.matches()) out.add(Long.parseLong(m.group(2), 16) * 256 + Long.parseLong(m.group(3), 16));
      });
    }
    return new ArrayList<>(out);
  }

  private static Set<String> timelines(Path dir) throws IOException {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> files = Files.list(dir)) {
      files.forEach(f -> {
        Matcher m = SEGMENT.matcher(f.getFileName().toString());
        if (m.matches()) out.add(m.group(1));
      });
    }
    return out;
  }

  /** pg_receivewal on the slot archiver, one run per primary; each run's end is checked for slot or WAL errors. */
  private static final class Receiver {
    private final TestCluster cluster;
    private final Path dir;
    private Process process;
    private Path log;
    int runs;

    Receiver(TestCluster cluster, Path dir) {
      this.cluster = cluster;
      this.dir = dir;
    }

    void start(String member) throws IOException {
      runs++;
      log = dir.resolveSibling("receivewal-" + runs + ".log");
      ProcessBuilder pb = new ProcessBuilder(BIN.resolve("pg_receivewal").toString(), "-D", dir.toString(),
          "--slot=archiver", "--no-loop", "--synchronous", "--status-interval=1", "-v",
          "-d", "host=127.0.0.1 port=" + cluster.member(member).postgresPort() + " user="
          + MemberConfig.REPLICATION_USER);
      pb.environment().put("PGPASSWORD", MemberConfig.REPLICATION_PASSWORD);
      pb.redirectErrorStream(true).redirectOutput(log.toFile());
      process = pb.start();
    }

    /** Whether this run streams from {@code member} and has reported WAL up to {@code target} flushed. */
    boolean flushedOn(TestCluster cluster, String member, long target) {
      return process != null && process.isAlive() && lsn(cluster, member,
          "SELECT (restart_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = 'archiver' AND active")
          >= target;
    }

    void stopAndCheck() throws Exception {
      if (process == null) return;
      if (process.isAlive()) {
        process.toHandle().destroy(); // SIGTERM: pg_receivewal finishes the segment it writes
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
      }
      String text = Files.readString(log);
      process = null;
      assertThat(text).as("pg_receivewal run %d", runs).doesNotContain("does not exist")
          .doesNotContain("has already been removed").doesNotContain("could not find");
    }
  }

  /** Polls pg_logical_slot_get_changes on the current primary and notes every id inserted. */
  private static final class LogicalConsumer {
    private final TestCluster cluster;
    private final Set<Integer> seen = new ConcurrentSkipListSet<>();
    private final AtomicReference<String> target = new AtomicReference<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicReference<String> lastError = new AtomicReference<>();
    private int duplicates;
    private Thread thread;

    LogicalConsumer(TestCluster cluster) {
      this.cluster = cluster;
    }

    void start(String member) {
      target.set(member);
      thread = new Thread(() -> {
        while (running.get()) {
          try {
            for (Map<String, Object> r : cluster.sql(target.get(),
                "SELECT data FROM pg_logical_slot_get_changes('cdc', NULL, NULL)")) {
              Matcher m = INSERT.matcher((String) r.get("data"));
              if (m.find() && !seen.add(Integer.parseInt(m.group(1)))) duplicates++;
            }
          } catch (Exception e) {
            lastError.set(e.getMessage());
          }
          TestCluster.sleep(Duration.ofMillis(200));
        }
      }, "logical-consumer");
      thread.setDaemon(true);
      thread.start();
    }

    void follow(String member) {
      target.set(member);
    }

    void awaitAll(int count) {
      cluster.await("the logical consumer sees rows 1.." + count + " (last error: " + lastError.get() + ")",
          Duration.ofSeconds(60), () -> missing(count).isEmpty());
    }

    List<Integer> missing(int count) {
      List<Integer> out = new ArrayList<>();
      for (int i = 1; i <= count; i++) if (!seen.contains(i)) out.add(i);
      return out;
    }

    int duplicates() {
      return duplicates;
    }

    void stop() throws InterruptedException {
      running.set(false);
      if (thread != null) thread.join(10_000);
    }
  }
}
