package io.pgha.launch;

import io.pgha.config.ConfigException;
import io.pgha.config.PostgresBinaries;
import io.pgha.dcs.ClusterSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import io.pgha.config.ZooKeeperConfig;
import io.pgha.dcs.ZkClients;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;

/**
 * N agents on this machine forming one cluster against a given ZooKeeper: configs, directories (owned by the
 * unprivileged user when root), agent processes, and a view of the cluster read from ZooKeeper. The demo and the
 * integration tests are built on it. Closing it stops every agent and any postmaster they left running.
 */
public final class LocalCluster implements AutoCloseable {

  /** Environment variable naming the directory with {@code postgres}, {@code initdb}, {@code pg_ctl}. */
  public static final String BIN_DIR_ENV = "PGHA_PG_BIN_DIR";

  private static final Duration AGENT_STOP_GRACE = Duration.ofSeconds(30);
  private static final Duration POSTMASTER_STOP_GRACE = Duration.ofSeconds(10);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);

  private final Path baseDir;
  private final Path jar;
  private final Map<String, MemberConfig> members = new LinkedHashMap<>();
  private final Map<String, AgentProcess> agents = new LinkedHashMap<>();
  private volatile CuratorFramework zookeeper;
  private final String basePath;

  private LocalCluster(Path baseDir, Path jar, List<MemberConfig> configs, String zookeeperHosts) {
    this.baseDir = baseDir;
    this.jar = jar;
    configs.forEach(c -> members.put(c.name(), c));
    this.basePath = configs.get(0).basePath();
    // short timeouts: the view is polled, and a stopped ZooKeeper must not stall the poller
    this.zookeeper = CuratorFrameworkFactory.builder()
        .connectString(zookeeperHosts)
        .sessionTimeoutMs(10_000)
        .connectionTimeoutMs(2_000)
        .retryPolicy(new RetryOneTime(200))
        .build();
    this.zookeeper.start();
  }

  /**
   * Writes configs for members {@code <prefix>0..<prefix>N-1} under {@code baseDir} (which must be empty or
   * missing), copies the jar there so the unprivileged user can read it, and hands the directory to that user.
   * No agent is started yet.
   */
  public static LocalCluster create(Path baseDir, Path jar, String scope, String namePrefix, int size,
      String zookeeperHosts, MemberConfig.Timing timing) {
    try {
      Files.createDirectories(baseDir);
      Path binDir = postgresBinDir();
      List<MemberConfig> configs = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        String name = namePrefix + i;
        MemberConfig config = new MemberConfig(scope, name, zookeeperHosts, FreePorts.next(), FreePorts.next(),
            baseDir.resolve(name), binDir, timing);
        Files.createDirectories(config.dir());
        Files.writeString(config.configFile(), config.toYaml(), StandardCharsets.UTF_8);
        // it holds the passwords
        Files.setPosixFilePermissions(config.configFile(), PosixFilePermissions.fromString("rw-------"));
        configs.add(config);
      }
      Path sharedJar = RunAs.shareReadable(jar, baseDir);
      RunAs.ownedDirectory(baseDir);
      return new LocalCluster(baseDir, sharedJar, configs, zookeeperHosts);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare cluster in " + baseDir, e);
    }
  }

  /**
   * The PostgreSQL binaries the agents get as {@code bin_dir}: {@value #BIN_DIR_ENV}, else found as the agent would.
   * Null leaves {@code bin_dir} out, and the agent reports what it cannot find.
   */
  private static Path postgresBinDir() {
    try {
      return PostgresBinaries.find(System.getenv(BIN_DIR_ENV), System.getenv());
    } catch (ConfigException e) {
      return null;
    }
  }

  /**
   * Makes the class-data archive for this cluster's copy of the jar, as bin/pgha does on a first start, so that
   * agents started afterwards map it (benchmarks; the tests leave it out, it costs seconds of CPU per cluster).
   */
  public Path makeClassArchive() throws IOException {
    return ClassArchive.make(jar, jar.getParent());
  }

  public Path baseDir() {
    return baseDir;
  }

  public String basePath() {
    return basePath;
  }

  public List<MemberConfig> members() {
    return List.copyOf(members.values());
  }

  public MemberConfig member(String name) {
    MemberConfig config = members.get(name);
    if (config == null) {
      throw new IllegalArgumentException("no member " + name);
    }
    return config;
  }

  /** The agent process of {@code name}, if started. */
  public Optional<AgentProcess> agent(String name) {
    return Optional.ofNullable(agents.get(name));
  }

  public void startAll(Map<String, String> extraEnv) {
    members.keySet().forEach(name -> startAgent(name, extraEnv));
  }

  /** Starts (or starts again) the agent of {@code name}; its log file is appended to. */
  public AgentProcess startAgent(String name, Map<String, String> extraEnv) {
    AgentProcess running = agents.get(name);
    if (running != null && running.isAlive()) {
      throw new IllegalStateException(name + " already runs as pid " + running.pid());
    }
    MemberConfig config = member(name);
    AgentProcess agent = AgentProcess.start(jar, config.configFile(), config.logFile(), extraEnv);
    agents.put(name, agent);
    return agent;
  }

  /** An agent that exited on its own (not signalled by us), if any: start-up failures show up this way. */
  public Optional<String> deadAgent() {
    return agents.entrySet().stream().filter(e -> e.getValue().exitedByItself()).map(Map.Entry::getKey).findFirst();
  }

  /**
   * Polls from now on as the members' own {@code zookeeper} section says (TLS, credentials), for an ensemble that
   * plain clients cannot use.
   */
  public void pollWith(ZooKeeperConfig settings) {
    CuratorFramework secured = ZkClients.builder(settings)
        .sessionTimeoutMs(10_000)
        .connectionTimeoutMs(2_000)
        .retryPolicy(new RetryOneTime(200))
        .build();
    secured.start();
    CuratorFramework plain = zookeeper;
    zookeeper = secured;
    plain.close();
  }

  /** The text of one key under the cluster's base path (e.g. {@code failsafe}), or empty when absent or unreadable. */
  public Optional<String> key(String name) {
    try {
      if (!zookeeper.getZookeeperClient().isConnected()
          && !zookeeper.blockUntilConnected(1, TimeUnit.SECONDS)) {
        return Optional.empty();
      }
      byte[] data = zookeeper.getData().forPath(basePath + "/" + name);
      return Optional.of(new String(data == null ? new byte[0] : data, java.nio.charset.StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  /** One read of the cluster's keys, or empty when ZooKeeper cannot be read right now. */
  public Optional<ClusterSnapshot> snapshot() {
    try {
      if (!zookeeper.getZookeeperClient().isConnected()
          && !zookeeper.blockUntilConnected(1, TimeUnit.SECONDS)) {
        return Optional.empty();
      }
      return Optional.of(ClusterSnapshot.read(zookeeper, basePath));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  /**
   * Polls the cluster view until {@code condition} holds, for at most {@code timeout}. Returns the matching view,
   * or empty on timeout. Fails early when an agent has exited by itself.
   */
  public Optional<ClusterSnapshot> await(Predicate<ClusterSnapshot> condition, Duration timeout,
      boolean failOnDeadAgent) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<ClusterSnapshot> view = snapshot();
      if (view.isPresent() && condition.test(view.get())) {
        return view;
      }
      if (failOnDeadAgent) {
        Optional<String> dead = deadAgent();
        if (dead.isPresent()) {
          throw new AgentDiedException(dead.get(), agents.get(dead.get()));
        }
      }
      if (System.nanoTime() >= deadline) {
        return Optional.empty();
      }
      sleep(POLL_INTERVAL);
    }
  }

  /** A leader holding the key with a running primary, and {@code replicas} running replicas. */
  public static Predicate<ClusterSnapshot> healthy(int replicas) {
    return view -> view.leaderMember().map(ClusterSnapshot.Member::isRunningPrimary).orElse(false)
        && view.members().stream().filter(ClusterSnapshot.Member::isRunningReplica).count() >= replicas;
  }

  /** An agent exited while we waited for the cluster. */
  public static final class AgentDiedException extends IllegalStateException {
    private final String member;

    AgentDiedException(String member, AgentProcess agent) {
      super("agent " + member + " exited with code " + agent.exitCode() + "; last lines of " + agent.logFile()
          + ":\n" + agent.logTail(40));
      this.member = member;
    }

    public String member() {
      return member;
    }
  }

  /** The postmaster's pid from the first line of {@code <data_dir>/postmaster.pid}, if the file exists. */
  public OptionalLong postmasterPid(String name) {
    Path pidFile = member(name).dataDir().resolve("postmaster.pid");
    try {
      if (!Files.exists(pidFile)) {
        return OptionalLong.empty();
      }
      List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
      return lines.isEmpty() || lines.get(0).isBlank() ? OptionalLong.empty()
          : OptionalLong.of(Long.parseLong(lines.get(0).trim()));
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** The postmaster of {@code name} if one is running (the pid file names a live postgres process). */
  public Optional<ProcessHandle> postmaster(String name) {
    OptionalLong pid = postmasterPid(name);
    if (pid.isEmpty()) {
      return Optional.empty();
    }
    return ProcessHandle.of(pid.getAsLong()).filter(ProcessHandle::isAlive).filter(LocalCluster::isPostgres);
  }

  private static boolean isPostgres(ProcessHandle process) {
    try {
      String comm = Files.readString(Path.of("/proc", Long.toString(process.pid()), "comm")).trim();
      return comm.startsWith("postgres") || comm.startsWith("postmaster");
    } catch (IOException e) {
      return false;
    }
  }

  /** Sends a signal by name (e.g. {@code KILL}, {@code QUIT}) to a process; as root we may signal postgres. */
  public static void signal(long pid, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).redirectErrorStream(true).start();
      kill.getInputStream().readAllBytes();
      kill.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot send SIG" + signal + " to " + pid, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Every member's log tail, for failure reports. */
  public String logTails(int lines) {
    StringBuilder out = new StringBuilder();
    for (MemberConfig config : members.values()) {
      out.append("===== ").append(config.logFile()).append(" (last ").append(lines).append(" lines) =====\n")
          .append(LogFiles.tail(config.logFile(), lines)).append('\n');
    }
    return out.toString();
  }

  /**
   * SIGTERMs every agent together (each should stop its postgres), SIGKILLs those still running after 30 s, then
   * stops any postmaster left behind with an immediate shutdown (SIGQUIT, then SIGKILL).
   */
  @Override
  public void close() {
    agents.values().stream().filter(AgentProcess::isAlive).forEach(AgentProcess::sigterm);
    long deadline = System.nanoTime() + AGENT_STOP_GRACE.toNanos();
    for (AgentProcess agent : agents.values()) {
      long left = Math.max(0, deadline - System.nanoTime());
      if (!agent.waitFor(Duration.ofNanos(left))) {
        agent.sigkill();
        agent.waitFor(Duration.ofSeconds(5));
      }
    }
    stopLeftoverPostmasters();
    zookeeper.close();
  }

  /** Immediate shutdown of every postmaster still running from this cluster's data dirs. */
  public void stopLeftoverPostmasters() {
    List<ProcessHandle> postmasters = members.keySet().stream()
        .map(this::postmaster).flatMap(Optional::stream).toList();
    postmasters.forEach(p -> signal(p.pid(), "QUIT"));
    for (ProcessHandle postmaster : postmasters) {
      try {
        postmaster.onExit().get(POSTMASTER_STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        signal(postmaster.pid(), "KILL");
      }
    }
  }

  /** Deletes a directory tree (the cluster's base dir after a successful run). */
  public static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  /** Thread.sleep for a Duration; an interrupt is restored and ends the wait with an exception. */
  public static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
