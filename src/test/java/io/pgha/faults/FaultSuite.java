package io.pgha.faults;

import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.RunAs;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Jepsen-style fault suite on real parts (issue 9): a three-server ZooKeeper ensemble with ZooKeeper's default
 * tickTime, three members with PostgreSQL 15, a writer on every member, and faults injected from a healthy cluster
 * at a seeded moment. After each fault: (a) single writer, (b) no acknowledged commit lost in synchronous mode,
 * (c) healthy within 30 s of the fault's end, (d) no agent exited by itself; plus takeover time, fencing guard
 * fires and leader changes. Runs pgha and, where installed, Patroni 3.0.2 through the same faults.
 *
 * <p>Usage: {@code benchmarks/faults.sh [--seed N] [--faults a,b|all|none] [--sync off|on|both] [--runs N]
 * [--patroni auto|off|only] [--healthy SECONDS] [--failsafe off|on] [--out DIR] [--keep]}
 */
public final class FaultSuite {

  static final Duration BOOTSTRAP_TIMEOUT = Duration.ofSeconds(180);
  static final Duration PRE_FAULT_HEALTHY_TIMEOUT = Duration.ofSeconds(60);
  static final Duration BASELINE = Duration.ofSeconds(3);
  /** The seeded injection moment falls in this window after the baseline (longer than one loop_wait). */
  static final int INJECTION_WINDOW_MS = 3_000;
  /** The seeded kill moment after {@code POST /switchover} falls in this window. */
  static final int SWITCHOVER_KILL_WINDOW_MS = 400;

  /** What to run. */
  record Options(long seed, List<Fault> faults, List<Boolean> syncModes, int runs, boolean patroni, boolean pgha,
      int healthySeconds, Path jar, Path out, boolean keep, boolean failsafe) {

    /** Without DCS failsafe mode, as Patroni's default. */
    Options(long seed, List<Fault> faults, List<Boolean> syncModes, int runs, boolean patroni, boolean pgha,
        int healthySeconds, Path jar, Path out, boolean keep) {
      this(seed, faults, syncModes, runs, patroni, pgha, healthySeconds, jar, out, keep, false);
    }

    static Options parse(String[] args) {
      long seed = System.currentTimeMillis() % 100_000;
      List<Fault> faults = List.of(Fault.values());
      List<Boolean> sync = List.of(false, true);
      int runs = 1;
      boolean patroni = true;
      boolean pgha = true;
      int healthy = 0;
      Path jar = Path.of("target/pgha.jar");
      Path out = Path.of("benchmarks/results");
      boolean keep = false;
      boolean failsafe = false;
      for (int i = 0; i < args.length; i++) {
        String option = args[i];
        if (option.equals("--keep")) {
          keep = true;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value for " + option);
        }
        String value = args[++i];
        switch (option) {
          case "--seed" -> seed = Long.parseLong(value);
          case "--faults" -> faults = Fault.parse(value);
          case "--sync" -> sync = switch (value) {
            case "off" -> List.of(false);
            case "on" -> List.of(true);
            case "both" -> List.of(false, true);
            default -> throw new IllegalArgumentException("--sync takes off, on or both, not " + value);
          };
          case "--failsafe" -> failsafe = switch (value) {
            case "off" -> false;
            case "on" -> true;
            default -> throw new IllegalArgumentException("--failsafe takes off or on, not " + value);
          };
          case "--runs" -> runs = Integer.parseInt(value);
          case "--patroni" -> {
            patroni = !value.equals("off");
            // only: the Patroni column alone, e.g. to compare with an earlier pgha run of the same seed
            pgha = !value.equals("only");
            if (!List.of("auto", "off", "only").contains(value)) {
              throw new IllegalArgumentException("--patroni takes auto, off or only, not " + value);
            }
          }
          case "--healthy" -> healthy = Integer.parseInt(value);
          case "--jar" -> jar = Path.of(value);
          case "--out" -> out = Path.of(value);
          default -> throw new IllegalArgumentException("unknown option " + option);
        }
      }
      if (runs < 1 || healthy < 0) {
        throw new IllegalArgumentException("--runs must be >= 1 and --healthy >= 0");
      }
      return new Options(seed, faults, sync, runs, patroni, pgha, healthy, jar.toAbsolutePath(), out, keep, failsafe);
    }
  }

  private final Options options;
  private final long epoch = System.nanoTime();
  private final Vertx vertx = Vertx.vertx();
  private final Optional<String> iptables;
  private final List<Report.Result> results = new ArrayList<>();
  private final int ttl = FaultCluster.TIMING.ttlSeconds();

  private FaultSuite(Options options) {
    this.options = options;
    this.iptables = options.faults().contains(Fault.ZK_PARTITION) ? Partition.iptables() : Optional.empty();
  }

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("faults: " + e.getMessage());
      System.exit(2);
      return;
    }
    List<Report.Result> results = run(options);
    System.out.println();
    System.out.print(Report.table(results, FaultCluster.TIMING.ttlSeconds()));
    String sideBySide = Report.sideBySide(results);
    if (!sideBySide.isEmpty()) {
      System.out.println();
      System.out.print(sideBySide);
    }
    System.out.println("\nseed " + options.seed() + (options.failsafe() ? "; failsafe_mode on" : "") + "; raw results: "
        + Report.writeCsv(results, options.out()).toAbsolutePath());
    System.exit(results.stream().allMatch(r -> r.failures().isEmpty()) ? 0 : 1);
  }

  /** Runs everything {@code options} asks for and returns one result per fault, sync mode, run and agent. */
  static List<Report.Result> run(Options options) throws Exception {
    FaultSuite suite = new FaultSuite(options);
    try {
      return suite.runAll();
    } finally {
      Processes.cleanUp();
      suite.vertx.close();
    }
  }

  private List<Report.Result> runAll() throws Exception {
    Path work = Files.createTempDirectory(Path.of("/tmp"), "pgha-faults-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    log("seed " + options.seed() + ", work dir " + work);
    // everything runs from a copy: a rebuild of target/pgha.jar during a long run must not pull it from under them
    Path jar = RunAs.shareReadable(options.jar(), work);
    if (options.faults().contains(Fault.ZK_PARTITION) && iptables.isEmpty()) {
      log("zk-partition will be skipped: neither iptables nor iptables-legacy works here (apt-get install iptables)");
    }
    List<FaultCluster.Agent> agents = new ArrayList<>();
    if (options.pgha()) {
      agents.add(FaultCluster.Agent.PGHA);
    }
    if (options.patroni()) {
      if (Files.isExecutable(FaultCluster.PATRONI)) {
        agents.add(FaultCluster.Agent.PATRONI);
      } else {
        log("Patroni column skipped: " + FaultCluster.PATRONI
            + " is not installed (apt-get install patroni python3-kazoo)");
      }
    }
    boolean allPassed = true;
    for (FaultCluster.Agent agent : agents) {
      for (boolean sync : options.syncModes()) {
        List<Fault> order = new ArrayList<>(options.faults());
        Collections.shuffle(order, new Random(options.seed() * 31 + (sync ? 1 : 0)));
        List<Report.Result> these = runCluster(agent, sync, order, work.resolve(agent.label + (sync ? "-sync" : "")),
            jar);
        allPassed &= these.stream().allMatch(r -> r.failures().isEmpty());
        results.addAll(these);
      }
    }
    if (allPassed && !options.keep()) {
      LocalCluster.deleteRecursively(work);
    } else {
      log("logs kept in " + work);
    }
    return results;
  }

  /** One cluster through {@code order} (each fault {@code runs} times), rebuilt whenever it does not recover. */
  private List<Report.Result> runCluster(FaultCluster.Agent agent, boolean sync, List<Fault> order, Path dir,
      Path jar) throws Exception {
    List<Report.Result> out = new ArrayList<>();
    Session session = null;
    int generation = 0;
    try {
      if (options.healthySeconds() > 0) {
        session = new Session(agent, sync, dir.resolve("gen" + generation++), jar);
        out.add(session.healthyRun(options.healthySeconds()));
        log(Report.table(out.subList(out.size() - 1, out.size()), ttl).lines().skip(3).findFirst().orElse(""));
      }
      boolean recovered = true;
      for (int run = 1; run <= options.runs(); run++) {
        for (Fault fault : order) {
          // a cluster that did not recover from the last fault is not waited for again: it is replaced
          if (session == null || !recovered
              || !Checks.awaitHealthy(session.cluster, PRE_FAULT_HEALTHY_TIMEOUT).healthy()) {
            if (session != null) {
              log(agent.label + ": cluster not healthy before " + fault.label + ": starting a fresh one");
              session.close();
            }
            session = new Session(agent, sync, dir.resolve("gen" + generation++), jar);
          }
          Report.Result result = session.inject(fault, run);
          recovered = result.skipped() != null ? !result.skipped().startsWith("injection failed")
              : !Double.isNaN(result.healthyAfterS());
          log(Report.table(List.of(result), ttl).lines().skip(3).findFirst().orElse(""));
          out.add(result);
        }
      }
    } finally {
      if (session != null) {
        session.close();
      }
    }
    return out;
  }

  /** A cluster with its writers, ledger and monitor, from bootstrap to close. */
  private final class Session implements AutoCloseable {
    final FaultCluster cluster;
    final Ledger ledger = new Ledger();
    final Writers writers;
    final Monitor monitor;
    final boolean sync;
    final FaultCluster.Agent agent;

    Session(FaultCluster.Agent agent, boolean sync, Path dir, Path jar) throws Exception {
      this.agent = agent;
      this.sync = sync;
      Files.createDirectories(dir);
      log(agent.label + (sync ? " (synchronous_mode on)" : "") + (options.failsafe() ? " (failsafe_mode on)" : "")
          + ": starting ensemble and members in " + dir);
      cluster = FaultCluster.start(agent, sync, options.failsafe(), jar, dir, vertx);
      Checks.Health health = Checks.awaitHealthy(cluster, BOOTSTRAP_TIMEOUT);
      if (!health.healthy()) {
        String tails = cluster.logTails(40);
        cluster.close();
        throw new IllegalStateException(agent.label + " cluster not healthy after " + BOOTSTRAP_TIMEOUT + ": "
            + health.why() + "\n" + tails);
      }
      cluster.sql(health.leader(), Writers.createTable());
      writers = new Writers(vertx, ledger, FaultSuite.this::nowMs, new AtomicLong(), cluster.members());
      monitor = new Monitor(cluster);
      log(agent.label + ": healthy, leader " + health.leader());
    }

    Report.Result healthyRun(int seconds) {
      Checks.Health before = Checks.awaitHealthy(cluster, PRE_FAULT_HEALTHY_TIMEOUT);
      double start = nowMs();
      monitor.reset();
      log(agent.label + ": healthy run under write load for " + seconds + " s");
      LocalCluster.sleep(Duration.ofSeconds(seconds));
      double end = nowMs();
      List<Ledger.Ack> window = ledger.between(start, end);
      Ledger.SingleWriter singleWriter = Ledger.singleWriter(window, before.leader());
      Checks.Health after = Checks.health(cluster, true);
      return new Report.Result(agent.label, sync, "healthy-run " + seconds + " s", 1, options.seed(), null,
          before.leader(), after.leader(), Double.NaN, singleWriter.violations(),
          Checks.missingOn(cluster, after.leader() != null ? after.leader() : before.leader(), window).value(),
          after.healthy() ? 0 : Double.NaN, cluster.agentsExitedByThemselves(), monitor.guardFires(),
          monitor.leaderChanges(), window.size(), after.why(), false);
    }

    Report.Result inject(Fault fault, int run) {
      Random random = new Random(options.seed() * 1_000_003L + fault.ordinal() * 1_009L + run * 7L + (sync ? 1 : 0));
      if (fault == Fault.ZK_PARTITION && iptables.isEmpty()) {
        return Report.skipped(agent.label, sync, fault, run, options.seed(), "iptables does not work here");
      }
      LocalCluster.sleep(BASELINE.plusMillis(random.nextInt(INJECTION_WINDOW_MS)));
      Optional<ClusterSnapshot> view = cluster.snapshot();
      String oldLeader = view.map(ClusterSnapshot::leader).orElse(null);
      if (oldLeader == null) {
        return Report.skipped(agent.label, sync, fault, run, options.seed(), "no leader at the injection moment");
      }
      log(agent.label + ": " + fault.label + (sync ? " (sync)" : "") + " on leader " + oldLeader);
      double start = nowMs();
      monitor.reset();
      String skipped;
      try {
        skipped = injectAndHeal(fault, oldLeader, view.get(), random);
      } catch (RuntimeException e) {
        // the suite's own machinery failed (a server that would not restart): say so, do not blame the agent
        log(agent.label + ": " + fault.label + " could not be injected: " + e);
        skipped = "injection failed: " + e.getMessage().lines().findFirst().orElse("");
      }
      if (skipped != null) {
        return Report.skipped(agent.label, sync, fault, run, options.seed(), skipped);
      }
      double faultEnd = nowMs();
      Checks.Health health = Checks.awaitHealthy(cluster,
          Duration.ofMillis((long) (Report.HEALTHY_TARGET_S * 1000)));
      double healthyAfter = health.healthy() ? ((health.atNanos() - epoch) / 1e6 - faultEnd) / 1000 : Double.NaN;
      if (!health.healthy()) {
        log(agent.label + ": not healthy 30 s after " + fault.label + ": " + health.why());
      }
      double end = nowMs();
      List<Ledger.Ack> window = ledger.between(start, end);
      Ledger.SingleWriter singleWriter = Ledger.singleWriter(window, oldLeader);
      double takeover = singleWriter.firstByNewPrimary().map(a -> (a.ackMs() - start) / 1000).orElse(Double.NaN);
      String finalPrimary = health.leader() != null ? health.leader()
          : cluster.snapshot().map(ClusterSnapshot::leader).orElse(null);
      long lost = finalPrimary == null ? -1
          : Checks.missingOn(cluster, finalPrimary, ledger.between(start - BASELINE.toMillis(), end)).value();
      return new Report.Result(agent.label, sync, fault.label, run, options.seed(), null, oldLeader, finalPrimary,
          takeover, singleWriter.violations(), lost, healthyAfter, cluster.agentsExitedByThemselves(),
          monitor.guardFires(), monitor.leaderChanges(), window.size(), health.why(), fault.leaderFault);
    }

    /** Injects {@code fault} and undoes it; returns when it has ended, or a reason it cannot run here. */
    private String injectAndHeal(Fault fault, String leader, ClusterSnapshot view, Random random) {
      Duration twiceTtl = Duration.ofSeconds(2L * ttl);
      switch (fault) {
        case FREEZE_AGENT -> {
          long pid = cluster.agentProcess(leader).pid();
          Processes.freeze(pid);
          LocalCluster.sleep(twiceTtl);
          Processes.thaw(pid);
        }
        case KILL_AGENT -> {
          cluster.killAgent(leader);
          LocalCluster.sleep(twiceTtl);
          cluster.startAgent(leader);
        }
        case ZK_PARTITION -> {
          Partition partition = Partition.cut(iptables.orElseThrow(), cluster.zooKeeperAddress(leader),
              cluster.ensemble().clientPorts());
          try {
            LocalCluster.sleep(twiceTtl);
          } finally {
            partition.heal();
          }
        }
        case ZK_LEADER_KILL, ZK_MINORITY -> {
          ZkEnsemble.Server zkLeader = cluster.ensemble().leader();
          if (zkLeader == null) {
            return "the ensemble has no leader to tell servers apart";
          }
          List<ZkEnsemble.Server> followers = cluster.ensemble().servers().stream().filter(s -> s != zkLeader)
              .toList();
          ZkEnsemble.Server victim = fault == Fault.ZK_LEADER_KILL ? zkLeader
              : followers.get(random.nextInt(followers.size()));
          victim.kill();
          LocalCluster.sleep(twiceTtl);
          victim.launch();
          cluster.ensemble().awaitAllServing(Duration.ofSeconds(60));
        }
        case ZK_FREEZE -> {
          List<ZkEnsemble.Server> servers = cluster.ensemble().servers();
          servers.forEach(s -> Processes.freeze(s.pid()));
          LocalCluster.sleep(Duration.ofSeconds(ttl + 5L));
          servers.forEach(s -> Processes.thaw(s.pid()));
        }
        case SWITCHOVER_KILL_CANDIDATE, SWITCHOVER_KILL_OLD_PRIMARY -> {
          List<String> candidates = cluster.names().stream().filter(n -> !n.equals(leader))
              .filter(n -> !sync || view.syncStandbys().isEmpty() || view.syncStandbys().contains(n)).toList();
          String candidate = candidates.get(random.nextInt(candidates.size()));
          String victim = fault == Fault.SWITCHOVER_KILL_CANDIDATE ? candidate : leader;
          java.util.concurrent.atomic.AtomicInteger answer = new java.util.concurrent.atomic.AtomicInteger(-1);
          Thread post = new Thread(() -> {
            answer.set(cluster.switchover(leader, candidate, Duration.ofSeconds(60)));
            log(agent.label + ": POST /switchover " + leader + " -> " + candidate + " answered " + answer.get());
          }, "switchover");
          post.setDaemon(true);
          post.start();
          // a switchover takes well under a second here: the kill must land while it runs
          LocalCluster.sleep(Duration.ofMillis(random.nextInt(SWITCHOVER_KILL_WINDOW_MS)));
          int answeredBeforeKill = answer.get();
          cluster.killNode(victim);
          log(agent.label + ": killed node " + victim + (answeredBeforeKill < 0 ? " before the switchover answered"
              : " after the switchover had answered " + answeredBeforeKill));
          LocalCluster.sleep(twiceTtl);
          cluster.startAgent(victim);
          try {
            post.join(Duration.ofSeconds(60).toMillis());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        default -> throw new IllegalStateException("unhandled fault " + fault);
      }
      return null;
    }

    @Override
    public void close() {
      try {
        writers.close();
        monitor.close();
      } finally {
        cluster.close();
      }
    }
  }

  double nowMs() {
    return (System.nanoTime() - epoch) / 1e6;
  }

  static void log(String line) {
    System.out.println(java.time.LocalTime.now().withNano(0) + " faults: " + line);
    System.out.flush();
  }
}
