package io.pgha.bench;

import io.pgha.dcs.ClusterSnapshot;
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
 * <p>Usage: {@code benchmarks/footprint.sh [--idle SECONDS] [--settle SECONDS] [--no-reference]}; extra agent JVM flags come from
 * {@code PGHA_JAVA_OPTS} as with {@code bin/pgha}.
 */
public final class FootprintBenchmark {
  private static final MemberConfig.Timing TIMING = new MemberConfig.Timing(10, 2, 3);
  private static final long CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux
  private static final long PAGE_KIB = 4;

  record Usage(long rssKib, long pssKib, long cpuTicks, int processes, int threads, Map<String, Long> threadTicks) {}

  public static void main(String[] args) throws Exception {
    int idle = intArg(args, "--idle", 60);
    if (idle < 5 || idle > 3600) {
      System.err.println("footprint: --idle must be 5..3600 seconds, got " + idle);
      System.exit(2);
    }
    int settle = intArg(args, "--settle", 10);
    if (settle < 0 || settle > 3600) {
      System.err.println("footprint: --settle must be 0..3600 seconds, got " + settle);
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
      // let start-up work (JIT, first checkpoints, replicas' first loops) settle before the window; a long --settle
      // measures a warmed-up agent (the JIT compiles an idle agent's code for minutes: see the thread breakdown)
      System.out.printf("settling: %d s%n", settle);
      LocalCluster.sleep(Duration.ofSeconds(settle));
      Map<String, ProcessHandle> roots = new LinkedHashMap<>();
      String leader = pgha.snapshot().map(ClusterSnapshot::leader).orElse("");
      for (MemberConfig m : pgha.members()) {
        roots.put("pgha " + m.name() + (m.name().equals(leader) ? "*" : ""),
            ProcessHandle.of(pgha.agent(m.name()).orElseThrow().pid()).orElseThrow());
      }
      List<Process> ref = processes.referenceProcesses();
      for (int i = 0; i < ref.size(); i++) roots.put("patroni pt" + i, ref.get(i).toHandle());
      Map<String, Usage> before = new LinkedHashMap<>();
      roots.forEach((name, root) -> before.put(name, usage(root)));
      System.out.printf("idle window: %d s%n", idle);
      LocalCluster.sleep(Duration.ofSeconds(idle));
      Map<String, Usage> after = new LinkedHashMap<>();
      roots.forEach((name, root) -> after.put(name, usage(root)));

      System.out.printf("%n%-14s %10s %10s %12s %10s %8s%n", "agent", "RSS MiB", "PSS MiB", "CPU s idle", "processes",
          "threads");
      double[] pghaSum = new double[2];
      double[] refSum = new double[2];
      int pghaN = 0;
      int refN = 0;
      for (String name : roots.keySet()) {
        Usage a = after.get(name);
        double rss = a.rssKib() / 1024.0;
        double cpu = (a.cpuTicks() - before.get(name).cpuTicks()) / (double) CLOCK_TICKS_PER_SECOND;
        System.out.printf("%-14s %10.1f %10.1f %12.2f %10d %8d%n", name, rss, a.pssKib() / 1024.0, cpu, a.processes(),
            a.threads());
        double[] sum = name.startsWith("pgha") ? pghaSum : refSum;
        sum[0] += rss;
        sum[1] += cpu;
        if (name.startsWith("pgha")) pghaN++;
        else refN++;
      }
      System.out.printf("%npgha mean per agent: %.1f MiB, %.2f CPU s in %d s%n", pghaSum[0] / pghaN, pghaSum[1] / pghaN,
          idle);
      System.out.println("(* the leader; PSS counts pages shared between processes once, split among them)");
      System.out.printf("%nwhere the CPU went, per agent (CPU s in the window by thread, names with digits folded;"
          + " the top 8):%n");
      for (String name : roots.keySet()) {
        Map<String, Long> delta = new java.util.HashMap<>();
        after.get(name).threadTicks().forEach((thread, ticks) ->
            delta.merge(thread, ticks - before.get(name).threadTicks().getOrDefault(thread, 0L), Long::sum));
        StringBuilder line = new StringBuilder(String.format("%-14s", name));
        delta.entrySet().stream().filter(e -> e.getValue() > 0)
            .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
            .forEach(e -> line.append(String.format(" %s %.2f;", e.getKey(), e.getValue() / (double) CLOCK_TICKS_PER_SECOND)));
        System.out.println(line);
      }
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
    long pss = 0;
    long cpu = 0;
    int threads = 0;
    Map<String, Long> threadTicks = new java.util.HashMap<>();
    for (ProcessHandle p : tree) {
      String[] stat = stat(p.pid());
      if (stat == null) continue;
      // fields after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14) ... threads(17)
      cpu += Long.parseLong(stat[11]) + Long.parseLong(stat[12]) + Long.parseLong(stat[13]) + Long.parseLong(stat[14]);
      threads += Integer.parseInt(stat[17]);
      rss += Long.parseLong(stat[21]) * PAGE_KIB;
      pss += pssKib(p.pid());
      threadCpu(p.pid(), threadTicks);
    }
    return new Usage(rss, pss, cpu, tree.size(), threads, threadTicks);
  }

  /** Proportional set size (kernel's smaps_rollup), 0 when unreadable. */
  static long pssKib(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
        if (line.startsWith("Pss:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (IOException | RuntimeException e) {
      // gone or not readable: counted as 0
    }
    return 0;
  }

  /**
   * Adds each thread's CPU ticks under its name with digits folded ("vert.x-eventloop-thread-#"), so that threads of
   * one kind add up and a thread that ended or started in the window still counts by kind. The process's own
   * children are separate processes, listed on their own.
   */
  static void threadCpu(long pid, Map<String, Long> into) {
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      tasks.forEach(task -> {
        try {
          String comm = Files.readString(task.resolve("comm")).trim();
          String s = Files.readString(task.resolve("stat"));
          String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
          into.merge(foldDigits(comm), Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      });
    } catch (IOException e) {
      // the process ended meanwhile
    }
  }

  static String foldDigits(String threadName) {
    return threadName.replaceAll("[0-9]+", "#");
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
