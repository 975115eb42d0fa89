package io.pgha.bench;

import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.ZooKeeperProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Measures the agent core's targets on this machine with real ZooKeeper and PostgreSQL, three members on loopback:
 * bootstrap to healthy, leader-node SIGKILL to the first write on a new primary (at two ttls), leader SIGTERM to the
 * first write elsewhere, and postmaster SIGKILL to writes again. For every failover it also checks that the old
 * primary accepted no write after the new one did. Prints a table and writes CSV beside it.
 *
 * <p>Usage: {@code benchmarks/failover.sh [--runs N] [--ttl-long SECONDS] [--out DIR]}
 *
 * <p>Or, node SIGKILL only against a three-server ensemble of {@code pgha zookeeper --tick-time MS} (2000 is
 * ZooKeeper's stock tick), {@code --runs} runs at each ttl, every run printed:
 * {@code benchmarks/failover.sh --zk-tick 2000 --ttls 10,30 --runs 10 [--patroni auto|off|only] [--keep]}: with
 * Patroni installed (Debian's {@code patroni}, python3-kazoo) the same runs on three Patroni members follow on the same
 * ensemble ({@code --patroni off}: pgha only; {@code only}: Patroni only). Each run also prints whose session held the
 * leader key, the timeout the server granted it, and the split kill → key gone → new key → first write.
 */
public final class FailoverBenchmark {
  private static final Duration POLL = Duration.ofMillis(20);

  record Sample(String scenario, int ttl, int run, double seconds, boolean oldPrimaryWroteAfter) {}

  public static void main(String[] args) throws Exception {
    int runs = intArg(args, "--runs", 5);
    int ttlLong = intArg(args, "--ttl-long", 30);
    Path out = Path.of(stringArg(args, "--out", "benchmarks/results"));
    Path jar = Path.of(stringArg(args, "--jar", "target/pgha.jar")).toAbsolutePath();
    // the agents run as the unprivileged user: it must be able to walk into the work directory
    Path work = Files.createTempDirectory("pgha-bench",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    List<Sample> samples = new ArrayList<>();
    boolean skipBootstrap = List.of(args).contains("--skip-bootstrap");
    String zkTick = stringArg(args, "--zk-tick", null);
    if (zkTick != null) {
      String patroniMode = stringArg(args, "--patroni", "auto");
      if (!List.of("auto", "off", "only").contains(patroniMode)) {
        System.err.println("failover: --patroni takes auto, off or only, not " + patroniMode);
        System.exit(2);
      }
      Optional<String> reference = patroniMode.equals("off") ? Optional.empty() : ApiBenchmark.referenceAgent();
      try (Writer writer = new Writer()) {
        for (String ttl : stringArg(args, "--ttls", "10,30").split(",")) {
          int t = Integer.parseInt(ttl.trim());
          samples.addAll(nodeKillsOnEnsemble(jar, work.resolve("tick" + zkTick + "-ttl" + t), writer,
              timingFor(t), runs, Integer.parseInt(zkTick), !patroniMode.equals("only"), reference));
        }
      } catch (RuntimeException e) {
        System.err.println("benchmark failed; logs kept in " + work);
        throw e;
      }
      if (List.of(args).contains("--keep")) System.out.println("logs kept in " + work);
      else LocalCluster.deleteRecursively(work);
      report(samples, out);
      return;
    }
    try (Writer writer = new Writer()) {
      for (int run = 1; run <= runs && !skipBootstrap; run++) {
        samples.add(bootstrap(jar, work.resolve("boot" + run), run));
      }
      samples.addAll(failovers(jar, work.resolve("ttl10"), writer, new MemberConfig.Timing(10, 2, 3), runs, true));
      samples.addAll(failovers(jar, work.resolve("ttl" + ttlLong), writer,
          new MemberConfig.Timing(ttlLong, 2, 3), Math.max(2, runs / 2), false));
    } catch (RuntimeException e) {
      System.err.println("benchmark failed; logs kept in " + work);
      throw e;
    }
    LocalCluster.deleteRecursively(work);
    report(samples, out);
  }

  private static Sample bootstrap(Path jar, Path dir, int run) throws IOException {
    try (ZooKeeperProcess zk = ZooKeeperProcess.start(jar, FreePorts.next(), dir.resolve("zk"), dir.resolve("zk.log"))) {
      zk.waitServing(Duration.ofSeconds(30));
      try (LocalCluster cluster = LocalCluster.create(dir, jar, "bench", "pg", 3, zk.connectString(),
          new MemberConfig.Timing(10, 2, 3))) {
        long start = System.nanoTime();
        cluster.startAll(Map.of());
        cluster.await(LocalCluster.healthy(2), Duration.ofSeconds(60), true)
            .orElseThrow(() -> new IllegalStateException("bootstrap did not finish:\n" + cluster.logTails(30)));
        return new Sample("bootstrap to 1 leader + 2 streaming", 10, run, seconds(start), false);
      }
    }
  }

  /** One cluster, many failovers: SIGKILL node (and SIGTERM, postmaster SIGKILL when {@code all}). */
  private static List<Sample> failovers(Path jar, Path dir, Writer writer, MemberConfig.Timing timing, int runs,
      boolean all) throws Exception {
    List<Sample> samples = new ArrayList<>();
    try (ZooKeeperProcess zk = ZooKeeperProcess.start(jar, FreePorts.next(), dir.resolve("zk"), dir.resolve("zk.log"))) {
      zk.waitServing(Duration.ofSeconds(30));
      try (LocalCluster cluster = LocalCluster.create(dir, jar, "bench", "pg", 3, zk.connectString(), timing)) {
        cluster.startAll(Map.of());
        awaitHealthy(cluster);
        for (int run = 1; run <= runs; run++) {
          samples.add(nodeKill(cluster, writer, timing.ttlSeconds(), run));
        }
        if (all) {
          for (int run = 1; run <= runs * 2; run++) samples.add(sigterm(cluster, writer, timing.ttlSeconds(), run));
          for (int run = 1; run <= runs; run++) samples.add(postmasterKill(cluster, writer, timing.ttlSeconds(), run));
        }
      }
    }
    return samples;
  }

  /** Patroni's defaults (loop_wait 10, retry_timeout 10) from ttl 30 up; the demo's 2/3 from 10; else 1/2. */
  private static MemberConfig.Timing timingFor(int ttl) {
    if (ttl >= 30) return new MemberConfig.Timing(ttl, 10, 10);
    if (ttl >= 10) return new MemberConfig.Timing(ttl, 2, 3);
    return new MemberConfig.Timing(ttl, 1, 2);
  }

  /**
   * Node SIGKILLs against a three-server ensemble at tickTime {@code tickMs}, every run printed as it ends: pgha's
   * members (unless {@code pgha} is false), then, with a {@code reference} agent (Patroni), the same number of runs on
   * its three members on the same ensemble with the same ttl, loop_wait and retry_timeout.
   */
  private static List<Sample> nodeKillsOnEnsemble(Path jar, Path dir, Writer writer, MemberConfig.Timing timing,
      int runs, int tickMs, boolean pgha, Optional<String> reference) throws Exception {
    List<Sample> samples = new ArrayList<>();
    List<ZooKeeperProcess> ensemble = ZooKeeperProcess.startEnsemble(jar, dir.resolve("zk"), 3, Duration.ofSeconds(60),
        List.of("--tick-time", Integer.toString(tickMs)));
    String connect = ZooKeeperProcess.connectString(ensemble);
    try {
      if (pgha) {
        try (LocalCluster cluster = LocalCluster.create(dir.resolve("pgha"), jar, "bench", "pg", 3, connect, timing);
            LeaderKeyTimeline timeline = new LeaderKeyTimeline(connect, cluster.basePath())) {
          cluster.startAll(Map.of());
          awaitHealthy(cluster);
          Node node = pghaNode(cluster);
          for (int run = 1; run <= runs; run++) {
            samples.add(printed(nodeKill(cluster, node, writer, timing.ttlSeconds(), run, timeline, "pgha",
                SCENARIO_NODE_KILL), "pgha", tickMs, timing));
          }
        }
      }
      if (reference.isPresent()) samples.addAll(referenceNodeKills(jar, dir, writer, timing, runs, tickMs, connect,
          reference.get()));
    } finally {
      ensemble.forEach(ZooKeeperProcess::close);
    }
    return samples;
  }

  private static final String SCENARIO_NODE_KILL = "leader node SIGKILL to first write on new primary";

  /** The same node kills on the reference agent's members (Patroni's process SIGKILLed with its postmaster). */
  private static List<Sample> referenceNodeKills(Path jar, Path dir, Writer writer, MemberConfig.Timing timing,
      int runs, int tickMs, String connect, String command) throws Exception {
    List<Sample> samples = new ArrayList<>();
    String label = ApiBenchmark.versionOf(command);
    try (ApiBenchmark.Processes processes = new ApiBenchmark.Processes()) {
      LocalCluster cluster = processes.cluster(LocalCluster.create(dir.resolve("patroni"), jar, "patroni-bench", "pt", 3,
          connect, timing));
      Map<String, Process> agents = new java.util.HashMap<>();
      for (MemberConfig m : cluster.members()) agents.put(m.name(), startReference(processes, command, m));
      ApiBenchmark.awaitHealthy(cluster, label);
      Node node = new Node() {
        @Override public void kill(String name) {
          long pm = cluster.postmasterPid(name).orElseThrow();
          LocalCluster.signal(agents.get(name).pid(), "KILL");
          LocalCluster.signal(pm, "KILL");
        }

        @Override public void restart(String name) {
          try {
            agents.get(name).waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            agents.put(name, startReference(processes, command, cluster.member(name)));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        }
      };
      try (LeaderKeyTimeline timeline = new LeaderKeyTimeline(connect, cluster.basePath())) {
        for (int run = 1; run <= runs; run++) {
          samples.add(printed(nodeKill(cluster, node, writer, timing.ttlSeconds(), run, timeline, label,
              SCENARIO_NODE_KILL + " (" + label + ")"), label, tickMs, timing));
        }
      }
    }
    return samples;
  }

  private static Process startReference(ApiBenchmark.Processes processes, String command, MemberConfig member)
      throws IOException {
    processes.startReference(command, member);
    List<Process> all = processes.referenceProcesses();
    return all.get(all.size() - 1);
  }

  private static Sample printed(Sample sample, String agent, int tickMs, MemberConfig.Timing timing) {
    System.out.printf("%s, tick %d ms, ttl %d s (loop_wait %d, retry_timeout %d): run %d: node SIGKILL to first write "
        + "%.3f s (ttl + %.3f)%n", agent, tickMs, timing.ttlSeconds(), timing.loopWaitSeconds(),
        timing.retryTimeoutSeconds(), sample.run(), sample.seconds(), sample.seconds() - timing.ttlSeconds());
    return sample;
  }

  /** How a member's node is killed (agent and postmaster SIGKILLed) and its agent started again. */
  interface Node {
    void kill(String name);

    void restart(String name);
  }

  private static Sample nodeKill(LocalCluster cluster, Writer writer, int ttl, int run) {
    return nodeKill(cluster, pghaNode(cluster), writer, ttl, run, null, "pgha", SCENARIO_NODE_KILL);
  }

  /** A pgha member's node: its agent and its postmaster SIGKILLed; the agent started again. */
  private static Node pghaNode(LocalCluster cluster) {
    return new Node() {
      @Override public void kill(String name) {
        long pm = cluster.postmasterPid(name).orElseThrow();
        cluster.agent(name).orElseThrow().sigkill();
        LocalCluster.signal(pm, "KILL");
      }

      @Override public void restart(String name) {
        cluster.startAgent(name, Map.of());
      }
    };
  }

  /** With a {@code timeline}, also prints whose session held the key and the split kill → key gone → taken → write. */
  private static Sample nodeKill(LocalCluster cluster, Node node, Writer writer, int ttl, int run,
      LeaderKeyTimeline timeline, String agent, String scenario) {
    String old = leader(cluster);
    String owner = timeline == null ? null : timeline.arm();
    Instant killedAt = Instant.now();
    long start = System.nanoTime();
    node.kill(old);
    FirstWrite first = firstWriteElsewhere(cluster, writer, old, Duration.ofSeconds(ttl * 3L));
    double elapsed = (first.atNanos - start) / 1e9;
    if (timeline != null) {
      System.out.printf("  %s run %d: killed %s at %s; its key: %s; %s (on %s)%n", agent, run, old, killedAt, owner,
          timeline.split(start, first.atNanos), first.member());
    }
    node.restart(old);
    awaitHealthy(cluster);
    return new Sample(scenario, ttl, run, elapsed, false);
  }

  private static Sample sigterm(LocalCluster cluster, Writer writer, int ttl, int run) {
    String old = leader(cluster);
    MemberConfig oldMember = cluster.member(old);
    long start = System.nanoTime();
    cluster.agent(old).orElseThrow().sigterm();
    FirstWrite first = firstWriteElsewhere(cluster, writer, old, Duration.ofSeconds(ttl * 3L));
    double elapsed = (first.atNanos - start) / 1e9;
    boolean oldWrote = writer.tryWrite(oldMember);
    cluster.agent(old).orElseThrow().waitFor(Duration.ofSeconds(60));
    cluster.startAgent(old, Map.of());
    awaitHealthy(cluster);
    return new Sample("leader SIGTERM to first write elsewhere", ttl, run, elapsed, oldWrote);
  }

  private static Sample postmasterKill(LocalCluster cluster, Writer writer, int ttl, int run) {
    String leader = leader(cluster);
    long pm = cluster.postmasterPid(leader).orElseThrow();
    long start = System.nanoTime();
    LocalCluster.signal(pm, "KILL");
    MemberConfig member = cluster.member(leader);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    sleep(Duration.ofMillis(30)); // the killed postmaster's backends may still answer for a moment
    while (!writer.tryWrite(member)) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("no write after postmaster kill");
      sleep(POLL);
    }
    double elapsed = seconds(start);
    awaitHealthy(cluster);
    return new Sample("postmaster SIGKILL (agent alive) to writes again", ttl, run, elapsed, false);
  }

  record FirstWrite(String member, long atNanos) {}

  private static FirstWrite firstWriteElsewhere(LocalCluster cluster, Writer writer, String old, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (MemberConfig m : cluster.members()) {
        if (m.name().equals(old)) continue;
        if (writer.tryWrite(m)) return new FirstWrite(m.name(), System.nanoTime());
      }
      sleep(POLL);
    }
    throw new IllegalStateException("no member accepted a write within " + timeout + ":\n" + cluster.logTails(30));
  }

  private static String leader(LocalCluster cluster) {
    return cluster.await(LocalCluster.healthy(2), Duration.ofSeconds(90), false)
        .flatMap(ClusterSnapshot::leaderMember).map(ClusterSnapshot.Member::name)
        .orElseThrow(() -> new IllegalStateException("no healthy cluster:\n" + cluster.logTails(30)));
  }

  private static void awaitHealthy(LocalCluster cluster) {
    leader(cluster);
  }

  private static void report(List<Sample> samples, Path out) throws IOException {
    Files.createDirectories(out);
    String stamp = Instant.now().toString().replace(':', '-');
    StringBuilder csv = new StringBuilder("scenario,ttl,run,seconds,old_primary_wrote_after\n");
    samples.forEach(s -> csv.append(String.format("%s,%d,%d,%.3f,%s%n", s.scenario(), s.ttl(), s.run(), s.seconds(),
        s.oldPrimaryWroteAfter())));
    Path file = out.resolve("failover-" + stamp + ".csv");
    Files.writeString(file, csv);
    System.out.printf("%n%-52s %4s %5s %8s %8s %8s  %s%n", "scenario", "ttl", "runs", "min s", "median s", "max s",
        "old primary wrote after new");
    samples.stream().map(s -> s.scenario() + "|" + s.ttl()).distinct().forEach(key -> {
      List<Sample> group = samples.stream().filter(s -> (s.scenario() + "|" + s.ttl()).equals(key)).toList();
      List<Double> secs = new ArrayList<>(group.stream().map(Sample::seconds).toList());
      Collections.sort(secs);
      long split = group.stream().filter(Sample::oldPrimaryWroteAfter).count();
      System.out.printf("%-52s %4d %5d %8.3f %8.3f %8.3f  %d%n", group.get(0).scenario(), group.get(0).ttl(),
          group.size(), secs.get(0), secs.get(secs.size() / 2), secs.get(secs.size() - 1), split);
    });
    System.out.println("\nraw samples: " + file.toAbsolutePath());
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
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
