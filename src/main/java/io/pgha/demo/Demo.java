package io.pgha.demo;

import io.pgha.cli.ClusterTable;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import io.pgha.zk.EmbeddedZooKeeper;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code pgha demo}: a three-member cluster on this machine with nothing but the jar and PostgreSQL installed. An
 * in-JVM ZooKeeper, three agents as separate processes (as the {@code postgres} user when run as root), all on free
 * 127.0.0.1 ports, everything under {@code ${TMPDIR:-/tmp}/pgha-demo}. Prints the member table and every endpoint,
 * reprints the table when it changes, and on Ctrl-C or SIGTERM stops the agents, then ZooKeeper.
 */
public final class Demo {

  private static final String SCOPE = "demo";
  private static final String NAME_PREFIX = "pg";
  private static final int MEMBERS = 3;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration REFRESH_INTERVAL = Duration.ofSeconds(10);
  /** Environment variable with the jar the agents run, when the demo itself does not run from a jar. */
  private static final String JAR_ENV = "PGHA_JAR";

  private final PrintStream out = System.out;

  private Demo() {}

  public static void main(String[] args) {
    if (args.length > 0) {
      System.err.println("usage: pgha demo   (no options; Ctrl-C stops it)");
      System.exit(2);
    }
    // the in-JVM ZooKeeper server logs stack traces for the agents' connections it closes at shutdown; the demo
    // prints its own messages, unless PGHA_LOG_LEVEL asks for logs
    if (System.getenv("PGHA_LOG_LEVEL") == null) {
      for (String logger : new String[] {"defaultLogLevel", "log.org.apache.zookeeper", "log.org.apache.curator"}) {
        System.setProperty("org.slf4j.simpleLogger." + logger, "error");
      }
    }
    System.exit(new Demo().run());
  }

  private int run() {
    Path demoDir = Path.of(Optional.ofNullable(System.getenv("TMPDIR")).filter(s -> !s.isBlank()).orElse("/tmp"),
        "pgha-demo");
    Optional<Path> jar = jar();
    if (jar.isEmpty()) {
      System.err.println("pgha demo: cannot find pgha.jar (run it as java -jar pgha.jar demo, or set " + JAR_ENV + ")");
      return 1;
    }
    CountDownLatch stopRequested = new CountDownLatch(1);
    Signals.onInterruptOrTerminate(stopRequested::countDown);

    LocalCluster cluster;
    EmbeddedZooKeeper zookeeper;
    try {
      wipe(demoDir);
      zookeeper = EmbeddedZooKeeper.start(FreePorts.next(), demoDir.resolve("zookeeper"));
      try {
        cluster = LocalCluster.create(demoDir, jar.get(), SCOPE, NAME_PREFIX, MEMBERS, zookeeper.connectString(),
            MemberConfig.Timing.FAST);
      } catch (RuntimeException e) {
        zookeeper.close();
        throw e;
      }
    } catch (RuntimeException e) {
      System.err.println("pgha demo: " + e.getMessage());
      return 1;
    }
    out.println("pgha demo: web view " + cluster.member(NAME_PREFIX + 0).restBase() + "/ui/  (every member serves it"
        + " on its REST port; up once the agents have started)");
    out.println("pgha demo: ZooKeeper serving on " + zookeeper.connectString() + ", starting " + MEMBERS
        + " agents in " + demoDir + " ...");
    int exitCode;
    try {
      cluster.startAll(Map.of());
      exitCode = awaitHealthy(cluster, stopRequested) ? 0 : 1;
      if (exitCode == 0) {
        printEndpoints(cluster, zookeeper);
        watch(cluster, stopRequested);
      }
    } catch (RuntimeException e) {
      System.err.println("pgha demo: " + e.getMessage());
      exitCode = 1;
    }
    out.println("pgha demo: stopping the agents ...");
    cluster.close();
    zookeeper.close();
    out.println("pgha demo: stopped; files are left in " + demoDir);
    return exitCode;
  }

  private boolean awaitHealthy(LocalCluster cluster, CountDownLatch stopRequested) {
    try {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (System.nanoTime() < deadline && stopRequested.getCount() > 0) {
        Optional<ClusterSnapshot> view = cluster.await(LocalCluster.healthy(MEMBERS - 1), Duration.ofSeconds(1), true);
        if (view.isPresent()) {
          out.println();
          out.print(ClusterTable.of(view.get(), SCOPE, false).render(ClusterTable.Format.PRETTY));
          return true;
        }
      }
    } catch (LocalCluster.AgentDiedException e) {
      System.err.println("pgha demo: " + e.getMessage());
      return false;
    }
    if (stopRequested.getCount() == 0) {
      return false;
    }
    System.err.println("pgha demo: no healthy cluster after " + START_TIMEOUT.toSeconds() + " s");
    cluster.snapshot().ifPresent(v -> System.err.print(ClusterTable.of(v, SCOPE, false).render(ClusterTable.Format.PRETTY)));
    System.err.print(cluster.logTails(20));
    return false;
  }

  private void printEndpoints(LocalCluster cluster, EmbeddedZooKeeper zookeeper) {
    out.println();
    out.println("ZooKeeper  " + zookeeper.connectString() + "  (keys under " + cluster.basePath() + ")");
    for (MemberConfig member : cluster.members()) {
      String rest = member.restBase();
      out.println();
      out.println(member.name() + "  REST  " + rest + "/patroni  " + rest + "/primary  " + rest + "/replica  "
          + rest + "/health");
      out.println("     web   " + rest + "/ui/");
      out.println("     psql  psql \"" + member.dsn() + "\"");
      out.println("     conf  " + member.configFile());
      out.println("     log   " + member.logFile());
    }
    out.println();
    out.println("Member table:  bin/pghactl -c " + cluster.member(NAME_PREFIX + 0).configFile() + " list");
    out.println("Ctrl-C stops the demo.");
    out.flush();
  }

  /** Reprints the table whenever it changed, until a stop is requested. */
  private void watch(LocalCluster cluster, CountDownLatch stopRequested) {
    String lastTable = null;
    boolean reportedDeadAgent = false;
    try {
      while (!stopRequested.await(REFRESH_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)) {
        Optional<ClusterSnapshot> view = cluster.snapshot();
        String table = view.map(v -> ClusterTable.of(v, SCOPE, false).render(ClusterTable.Format.PRETTY))
            .orElse("(ZooKeeper cannot be read)\n");
        if (lastTable != null && !table.equals(lastTable)) {
          out.println();
          out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " the cluster changed:");
          out.print(table);
          out.flush();
        }
        lastTable = table;
        Optional<String> dead = cluster.deadAgent();
        if (dead.isPresent() && !reportedDeadAgent) {
          reportedDeadAgent = true;
          out.println("agent " + dead.get() + " exited; see " + cluster.member(dead.get()).logFile());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Clears the demo dir of a previous run, refusing while that run's postgres is still up. */
  private static void wipe(Path demoDir) {
    if (!Files.exists(demoDir)) {
      return;
    }
    for (int i = 0; i < MEMBERS; i++) {
      Path pidFile = demoDir.resolve(NAME_PREFIX + i).resolve("data").resolve("postmaster.pid");
      Optional<Long> pid = firstLineAsPid(pidFile);
      if (pid.isPresent() && ProcessHandle.of(pid.get()).map(ProcessHandle::isAlive).orElse(false)) {
        throw new IllegalStateException("a previous demo still runs (postgres pid " + pid.get() + " in "
            + demoDir + "); stop it first");
      }
    }
    LocalCluster.deleteRecursively(demoDir);
  }

  private static Optional<Long> firstLineAsPid(Path pidFile) {
    try {
      return Files.exists(pidFile)
          ? Optional.of(Long.parseLong(Files.readAllLines(pidFile).get(0).trim()))
          : Optional.empty();
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  /** The jar this class was loaded from, or {@value #JAR_ENV}. */
  private static Optional<Path> jar() {
    String configured = System.getenv(JAR_ENV);
    if (configured != null && !configured.isBlank()) {
      return Optional.of(Path.of(configured));
    }
    try {
      Path location = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.isRegularFile(location) && location.toString().endsWith(".jar") ? Optional.of(location)
          : Optional.empty();
    } catch (URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
