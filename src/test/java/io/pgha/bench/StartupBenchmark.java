package io.pgha.bench;

import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.ZooKeeperProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Start-up of three empty members started together against a three-server ensemble at {@code --zk-tick} (default
 * 2000, ZooKeeper's stock tick): per agent, process start to its ZooKeeper session and to its first HA decision (from
 * the agent's log), and spawning the agents to one leader with two streaming replicas. Every run printed.
 *
 * <p>Usage: {@code benchmarks/startup.sh [--runs N] [--zk-tick MS] [--keep] [--no-cds] [--patroni auto|off|only]}
 * ({@code --keep}: leave the work directory with the agents' logs; {@code --no-cds}: agents without the class-data
 * archive bin/pgha makes). With Patroni installed (Debian's {@code patroni}, python3-kazoo) each run is followed by
 * the same bootstrap of three Patroni members on the same ensemble: process start to kazoo's "Zookeeper connection
 * established" and to the first HA cycle's log line, and spawning to one leader + two streaming.
 */
public final class StartupBenchmark {
  private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

  public static void main(String[] args) throws Exception {
    int runs = intArg(args, "--runs", 3);
    int tick = intArg(args, "--zk-tick", 2000);
    Path jar = Path.of(stringArg(args, "--jar", "target/pgha.jar")).toAbsolutePath();
    boolean cds = !Arrays.asList(args).contains("--no-cds");
    String patroniMode = stringArg(args, "--patroni", "auto");
    if (!List.of("auto", "off", "only").contains(patroniMode)) {
      System.err.println("startup: --patroni takes auto, off or only, not " + patroniMode);
      System.exit(2);
    }
    Optional<String> reference = patroniMode.equals("off") ? Optional.empty() : ApiBenchmark.referenceAgent();
    Path work = Files.createTempDirectory("pgha-startup",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    List<ZooKeeperProcess> ensemble = ZooKeeperProcess.startEnsemble(jar, work.resolve("zk"), 3,
        Duration.ofSeconds(60), List.of("--tick-time", Integer.toString(tick)));
    try {
      for (int run = 1; run <= runs; run++) {
        if (!patroniMode.equals("only")) {
          pghaRun(work, jar, ensemble, tick, cds, run);
        }
        if (reference.isPresent()) referenceRun(work, jar, ensemble, tick, reference.get(), run);
      }
    } finally {
      ensemble.forEach(ZooKeeperProcess::close);
    }
    if (Arrays.asList(args).contains("--keep")) {
      System.out.println("logs kept in " + work);
    } else {
      LocalCluster.deleteRecursively(work);
    }
  }

  private static void pghaRun(Path work, Path jar, List<ZooKeeperProcess> ensemble, int tick, boolean cds, int run)
      throws Exception {
    try (LocalCluster cluster = LocalCluster.create(work.resolve("run" + run), jar, "startup" + run, "pg", 3,
        ZooKeeperProcess.connectString(ensemble), MemberConfig.Timing.FAST)) {
      if (cds) cluster.makeClassArchive(); // as bin/pgha's first start after a build; not timed
      long spawn = System.nanoTime();
      cluster.startAll(Map.of());
      cluster.await(LocalCluster.healthy(2), Duration.ofSeconds(120), true)
          .orElseThrow(() -> new IllegalStateException("bootstrap did not finish:\n" + cluster.logTails(30)));
      double bootstrap = (System.nanoTime() - spawn) / 1e9;
      StringBuilder line = new StringBuilder();
      for (MemberConfig m : cluster.members()) {
        Instant started = ProcessHandle.of(cluster.agent(m.name()).orElseThrow().pid()).orElseThrow().info()
            .startInstant().orElseThrow();
        List<String> log = Files.readAllLines(m.logFile());
        // an agent that connects before building the rest logs the handshake's end; an older one, its DCS ready
        String session = log.stream().anyMatch(l -> l.contains("zookeeper session established"))
            ? "zookeeper session established" : "zookeeper connection connected";
        line.append(String.format(" %s: session %s s, first decision %s s (CPU %s s);", m.name(),
            since(started, log, l -> l.contains(session)),
            since(started, log, l -> l.contains("ha.decision cycle=1 ")), startCpu(log)));
      }
      System.out.printf("pgha, tick %d%s run %d: bootstrap to 1 leader + 2 streaming %.3f s;%s%n", tick,
          cds ? "" : " (no class-data archive)", run, bootstrap, line);
    }
  }

  /**
   * Patroni's first HA cycle logs its result ("trying to bootstrap a new cluster", "waiting for leader to bootstrap",
   * or "Lock owner: ...; I am ..." before it); kazoo logs "Zookeeper connection established" for its session.
   */
  private static final Pattern PATRONI_FIRST_DECISION =
      Pattern.compile("INFO: (Lock owner: |trying to bootstrap|waiting for leader to bootstrap|no action)");

  /** The same three empty members run by Patroni, on the same ensemble, with the same ttl and loop_wait. */
  private static void referenceRun(Path work, Path jar, List<ZooKeeperProcess> ensemble, int tick, String command,
      int run) throws Exception {
    String label = ApiBenchmark.versionOf(command);
    try (ApiBenchmark.Processes processes = new ApiBenchmark.Processes()) {
      LocalCluster cluster = processes.cluster(LocalCluster.create(work.resolve("patroni" + run), jar,
          "patroni-startup" + run, "pt", 3, ZooKeeperProcess.connectString(ensemble), MemberConfig.Timing.FAST));
      long spawn = System.nanoTime();
      for (MemberConfig m : cluster.members()) processes.startReference(command, m);
      cluster.await(LocalCluster.healthy(2), Duration.ofSeconds(120), false)
          .orElseThrow(() -> new IllegalStateException(label + " bootstrap did not finish:\n" + cluster.logTails(30)));
      double bootstrap = (System.nanoTime() - spawn) / 1e9;
      List<Process> agents = processes.referenceProcesses();
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cluster.members().size(); i++) {
        MemberConfig m = cluster.members().get(i);
        Instant started = agents.get(i).toHandle().info().startInstant().orElseThrow();
        List<String> log = Files.readAllLines(m.logFile());
        line.append(String.format(" %s: session %s s, first decision %s s;", m.name(),
            since(started, log, l -> l.contains("Zookeeper connection established")),
            since(started, log, l -> PATRONI_FIRST_DECISION.matcher(l).find())));
      }
      System.out.printf("%s, tick %d run %d: bootstrap to 1 leader + 2 streaming %.3f s;%s%n", label, tick, run,
          bootstrap, line);
    }
  }

  /** The agent's own count of the CPU it spent until its first decision ("started: ... N s of CPU"). */
  private static String startCpu(List<String> log) {
    return log.stream().filter(l -> l.contains("started: zookeeper session")).findFirst()
        .map(l -> l.replaceAll(".*, ([0-9.]+) s of CPU.*", "$1")).orElse("?");
  }

  private static String since(Instant started, List<String> log, Predicate<String> marker) {
    return log.stream().filter(l -> l.length() >= 23 && marker.test(l)).findFirst()
        .map(l -> LocalDateTime.parse(l.substring(0, 23), LOG_TIME).atZone(ZoneId.systemDefault()).toInstant())
        .map(at -> String.format("%.3f", Duration.between(started, at).toMillis() / 1000.0)).orElse("?");
  }

  private static int intArg(String[] args, String name, int fallback) {
    return Optional.ofNullable(stringArg(args, name, null)).map(Integer::parseInt).orElse(fallback);
  }

  private static String stringArg(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) if (args[i].equals(name)) return args[i + 1];
    return fallback;
  }
}
