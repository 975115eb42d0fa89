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

/**
 * Start-up of three empty members started together against a three-server ensemble at {@code --zk-tick} (default
 * 2000, ZooKeeper's stock tick): per agent, process start to its ZooKeeper session and to its first HA decision (from
 * the agent's log), and spawning the agents to one leader with two streaming replicas. Every run printed.
 *
 * <p>Usage: {@code benchmarks/startup.sh [--runs N] [--zk-tick MS] [--keep] [--no-cds]} ({@code --keep}: leave the
 * work directory with the agents' logs; {@code --no-cds}: agents without the class-data archive bin/pgha makes)
 */
public final class StartupBenchmark {
  private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

  public static void main(String[] args) throws Exception {
    int runs = intArg(args, "--runs", 3);
    int tick = intArg(args, "--zk-tick", 2000);
    Path jar = Path.of(stringArg(args, "--jar", "target/pgha.jar")).toAbsolutePath();
    boolean cds = !Arrays.asList(args).contains("--no-cds");
    Path work = Files.createTempDirectory("pgha-startup",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    List<ZooKeeperProcess> ensemble = ZooKeeperProcess.startEnsemble(jar, work.resolve("zk"), 3,
        Duration.ofSeconds(60), List.of("--tick-time", Integer.toString(tick)));
    try {
      for (int run = 1; run <= runs; run++) {
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
            line.append(String.format(" %s: session %s s, first decision %s s (CPU %s s);", m.name(),
                since(started, log, "zookeeper connection connected"), since(started, log, "ha.decision cycle=1 "),
                startCpu(log)));
          }
          System.out.printf("tick %d%s run %d: bootstrap to 1 leader + 2 streaming %.3f s;%s%n", tick,
              cds ? "" : " (no class-data archive)", run, bootstrap, line);
        }
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

  /** The agent's own count of the CPU it spent until its first decision ("started: ... N s of CPU"). */
  private static String startCpu(List<String> log) {
    return log.stream().filter(l -> l.contains("started: zookeeper session")).findFirst()
        .map(l -> l.replaceAll(".*, ([0-9.]+) s of CPU.*", "$1")).orElse("?");
  }

  private static String since(Instant started, List<String> log, String marker) {
    return log.stream().filter(l -> l.contains(marker)).findFirst()
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
