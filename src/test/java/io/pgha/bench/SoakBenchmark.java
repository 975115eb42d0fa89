package io.pgha.bench;

import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.ZooKeeperProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A bounded soak: three members on loopback with a standalone {@code pgha zookeeper}, a write to the leader every
 * 100 ms for {@code --minutes} minutes, nothing killed. Counts leader changes (the leader key's holder changing or the
 * key vanishing), writes that failed, and at the end the fencing guard's fires from each agent's {@code /metrics}.
 * Any leader change or guard fire is unintended here. The CPU hog is started by {@code benchmarks/soak.sh}.
 *
 * <p>Usage: {@code benchmarks/soak.sh [--minutes N] [--ttl S] [--loop-wait S] [--retry-timeout S]}
 */
public final class SoakBenchmark {
  private static final Duration TICK = Duration.ofMillis(100);

  public static void main(String[] args) throws Exception {
    int minutes = intArg(args, "--minutes", 30);
    int ttl = intArg(args, "--ttl", 5);
    int loopWait = intArg(args, "--loop-wait", 1);
    int retryTimeout = intArg(args, "--retry-timeout", 2);
    if (minutes < 1 || minutes > 240) {
      System.err.println("soak: --minutes must be 1..240, got " + minutes);
      System.exit(2);
    }
    Path jar = Path.of(stringArg(args, "--jar", "target/pgha.jar")).toAbsolutePath();
    Path work = Files.createTempDirectory("pgha-soak",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    MemberConfig.Timing timing = new MemberConfig.Timing(ttl, loopWait, retryTimeout);
    boolean clean;
    try (Writer writer = new Writer();
        ZooKeeperProcess zk = ZooKeeperProcess.start(jar, FreePorts.next(), work.resolve("zk"),
            work.resolve("zk.log"))) {
      zk.waitServing(Duration.ofSeconds(30));
      try (LocalCluster cluster = LocalCluster.create(work, jar, "soak", "pg", 3, zk.connectString(), timing)) {
        cluster.startAll(Map.of());
        String leader = cluster.await(LocalCluster.healthy(2), Duration.ofSeconds(120), true)
            .flatMap(ClusterSnapshot::leaderMember).map(ClusterSnapshot.Member::name)
            .orElseThrow(() -> new IllegalStateException("no healthy cluster:\n" + cluster.logTails(30)));
        System.out.printf("%s soak start: ttl %d loop_wait %d retry_timeout %d, leader %s, %d min%n", Instant.now(),
            ttl, loopWait, retryTimeout, leader, minutes);
        long end = System.nanoTime() + Duration.ofMinutes(minutes).toNanos();
        long writes = 0;
        long failedWrites = 0;
        int leaderChanges = 0;
        int unreadable = 0;
        long nextReport = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (System.nanoTime() < end) {
          Optional<ClusterSnapshot> view = cluster.snapshot();
          if (view.isEmpty()) {
            unreadable++;
          } else {
            String now = view.get().leader();
            if (!String.valueOf(now).equals(leader)) {
              leaderChanges++;
              System.out.printf("%s LEADER CHANGE: %s -> %s%n", Instant.now(), leader, now);
              leader = now;
            }
          }
          if (leader != null) {
            writes++;
            if (!writer.tryWrite(cluster.member(leader))) {
              failedWrites++;
              System.out.printf("%s write to %s failed%n", Instant.now(), leader);
            }
          }
          Optional<String> dead = cluster.deadAgent();
          if (dead.isPresent()) {
            System.out.printf("%s AGENT EXITED: %s%n%s%n", Instant.now(), dead.get(), cluster.logTails(30));
            leaderChanges++;
            break;
          }
          if (System.nanoTime() > nextReport) {
            System.out.printf("%s writes %d failed %d leader changes %d%n", Instant.now(), writes, failedWrites,
                leaderChanges);
            nextReport += Duration.ofMinutes(1).toNanos();
          }
          LocalCluster.sleep(TICK);
        }
        long fires = 0;
        for (MemberConfig member : cluster.members()) {
          long memberFires = guardFires(member);
          System.out.printf("guard fires on %s: %s%n", member.name(), memberFires < 0 ? "unreadable" : memberFires);
          fires += Math.max(0, memberFires);
        }
        System.out.printf("%nsoak result: %d min at ttl %d: writes %d, failed writes %d, leader changes %d, "
            + "guard fires %d, unreadable ZooKeeper polls %d%n", minutes, ttl, writes, failedWrites, leaderChanges,
            fires, unreadable);
        clean = leaderChanges == 0 && fires == 0;
        if (!clean) System.out.println("agent logs kept in " + work);
      }
    }
    if (clean) LocalCluster.deleteRecursively(work);
    System.exit(clean ? 0 : 1);
  }

  /** {@code pgha_fencing_guard_fires_total} from the agent's /metrics, or -1 when unreadable. */
  private static long guardFires(MemberConfig member) {
    try {
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(member.restBase() + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return response.body().lines().filter(l -> l.startsWith("pgha_fencing_guard_fires_total"))
          .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).reduce(Long::sum)
          .orElse(-1);
    } catch (Exception e) {
      return -1;
    }
  }

  private static int intArg(String[] args, String name, int fallback) {
    return Optional.ofNullable(stringArg(args, name, null)).map(Integer::parseInt).orElse(fallback);
  }

  private static String stringArg(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) if (args[i].equals(name)) return args[i + 1];
    return fallback;
  }
}
