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
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Start-up of three empty members started together against a three-server ensemble at {@code --zk-tick} (default
 * 2000, ZooKeeper's stock tick): per agent, process start to its ZooKeeper session and to its first HA decision (from
 * the agent's log), and spawning the agents to one leader with two streaming replicas. Every run printed.
 *
 * <p>Usage: {@code benchmarks/startup.sh [--runs N] [--zk-tick MS]}
 */
public final class StartupBenchmark {
  private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

  public static void main(String[] args) throws Exception {
    int runs = intArg(args, "--runs", 3);
    int tick = intArg(args, "--zk-tick", 2000);
    Path jar = Path.of(stringArg(args, "--jar", "target/pgha.jar")).toAbsolutePath();
    Path work = Files.createTempDirectory("pgha-startup",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    List<ZooKeeperProcess> ensemble = ZooKeeperProcess.startEnsemble(jar, work.resolve("zk"), 3,
        Duration.ofSeconds(60), List.of("--tick-time", Integer.toString(tick)));
    try {
      for (int run = 1; run <= runs; run++) {
        try (LocalCluster cluster = LocalCluster.create(work.resolve("run" + run), jar, "startup" + run, "pg", 3,
            ZooKeeperProcess.connectString(ensemble), MemberConfig.Timing.FAST)) {
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
            line.append(String.format(" %s: session %s s, first decision %s s;", m.name(),
                since(started, log, "zookeeper connection connected"), since(started, log, "ha.decision cycle=1 ")));
          }
          System.out.printf("tick %d run %d: bootstrap to 1 leader + 2 streaming %.3f s;%s%n", tick, run, bootstrap,
              line);
        }
      }
    } finally {
      ensemble.forEach(ZooKeeperProcess::close);
    }
    LocalCluster.deleteRecursively(work);
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
