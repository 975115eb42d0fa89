package io.pgha.bench;

import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An idle agent's cost, pgha and Patroni side by side in one run on one ZooKeeper: three members each, ttl 10,
 * loop_wait 2, healthy, then an idle window. Per agent: resident memory of its whole process tree (the agent and
 * what it started, the fencing guard included, PostgreSQL's processes left out) at the window's end, and the CPU
 * seconds the tree used during the window; then the ratios pgha / Patroni.
 *
 * <p>Usage: {@code benchmarks/footprint.sh [--idle SECONDS] [--no-reference]}; extra agent JVM flags come from
 * {@code PGHA_JAVA_OPTS} as with {@code bin/pgha}.
 */
public final class FootprintBenchmark {
  private static final MemberConfig.Timing TIMING = new MemberConfig.Timing(10, 2, 3);
  private static final long CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux
  private static final long PAGE_KIB = 4;

  record Usage(long rssKib, long cpuTicks, int processes, int threads) {}

  public static void main(String[] args) throws Exception {
    int idle = intArg(args, "--idle", 60);
    if (idle < 5 || idle > 3600) {
      System.err.println("footprint: --idle must be 5..3600 seconds, got " + idle);
      System.exit(2);
    }
    Path jar = Path.of(stringArg(args, "--jar", "target/pgha.jar")).toAbsolutePath();
    Optional<String> reference = List.of(args).contains("--no-reference") ? Optional.empty()
        : ApiBenchmark.referenceAgent();
    Path work = Files.createTempDirectory("pgha-footprint",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    try (ApiBenchmark.Processes processes = new ApiBenchmark.Processes()) {
      LocalCluster[] clusters = processes.sideBySide(jar, work, "footprint", TIMING, reference);
      LocalCluster pgha = clusters[0];
      LocalCluster patroni = clusters[1];
      ApiBenchmark.awaitHealthy(pgha, "pgha");
      if (patroni != null) ApiBenchmark.awaitHealthy(patroni, "patroni");
      // let start-up work (JIT, first checkpoints, replicas' first loops) settle before the window
      LocalCluster.sleep(Duration.ofSeconds(10));
      Map<String, ProcessHandle> roots = new LinkedHashMap<>();
      for (MemberConfig m : pgha.members()) {
        roots.put("pgha " + m.name(), ProcessHandle.of(pgha.agent(m.name()).orElseThrow().pid()).orElseThrow());
      }
      List<Process> ref = processes.referenceProcesses();
      for (int i = 0; i < ref.size(); i++) roots.put("patroni pt" + i, ref.get(i).toHandle());
      Map<String, Usage> before = new LinkedHashMap<>();
      roots.forEach((name, root) -> before.put(name, usage(root)));
      System.out.printf("idle window: %d s%n", idle);
      LocalCluster.sleep(Duration.ofSeconds(idle));
      Map<String, Usage> after = new LinkedHashMap<>();
      roots.forEach((name, root) -> after.put(name, usage(root)));

      System.out.printf("%n%-14s %10s %12s %10s %8s%n", "agent", "RSS MiB", "CPU s idle", "processes", "threads");
      double[] pghaSum = new double[2];
      double[] refSum = new double[2];
      int pghaN = 0;
      int refN = 0;
      for (String name : roots.keySet()) {
        Usage a = after.get(name);
        double rss = a.rssKib() / 1024.0;
        double cpu = (a.cpuTicks() - before.get(name).cpuTicks()) / (double) CLOCK_TICKS_PER_SECOND;
        System.out.printf("%-14s %10.1f %12.2f %10d %8d%n", name, rss, cpu, a.processes(), a.threads());
        double[] sum = name.startsWith("pgha") ? pghaSum : refSum;
        sum[0] += rss;
        sum[1] += cpu;
        if (name.startsWith("pgha")) pghaN++;
        else refN++;
      }
      System.out.printf("%npgha mean per agent: %.1f MiB, %.2f CPU s in %d s%n", pghaSum[0] / pghaN, pghaSum[1] / pghaN,
          idle);
      if (refN > 0) {
        String label = ApiBenchmark.versionOf(reference.get());
        System.out.printf("%s mean per agent: %.1f MiB, %.2f CPU s in %d s%n", label, refSum[0] / refN,
            refSum[1] / refN, idle);
        System.out.printf("ratio pgha / %s: RSS %.2f x, CPU %.2f x%n", label, (pghaSum[0] / pghaN) / (refSum[0] / refN),
            refSum[1] == 0 ? Double.NaN : (pghaSum[1] / pghaN) / (refSum[1] / refN));
      }
    }
    LocalCluster.deleteRecursively(work);
  }

  /** The tree under {@code root}, PostgreSQL's processes (and what they started) left out. */
  static Usage usage(ProcessHandle root) {
    List<ProcessHandle> tree = new ArrayList<>();
    collect(root, tree);
    long rss = 0;
    long cpu = 0;
    int threads = 0;
    for (ProcessHandle p : tree) {
      String[] stat = stat(p.pid());
      if (stat == null) continue;
      // fields after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14) ... threads(17)
      cpu += Long.parseLong(stat[11]) + Long.parseLong(stat[12]) + Long.parseLong(stat[13]) + Long.parseLong(stat[14]);
      threads += Integer.parseInt(stat[17]);
      rss += Long.parseLong(stat[21]) * PAGE_KIB;
    }
    return new Usage(rss, cpu, tree.size(), threads);
  }

  private static void collect(ProcessHandle p, List<ProcessHandle> into) {
    if (isPostgres(p.pid())) return;
    into.add(p);
    p.children().forEach(c -> collect(c, into));
  }

  private static boolean isPostgres(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/comm")).trim().startsWith("postgres");
    } catch (IOException e) {
      return false;
    }
  }

  /** /proc/PID/stat split after the command's closing parenthesis, or null when the process is gone. */
  private static String[] stat(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
    } catch (IOException | RuntimeException e) {
      return null;
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
