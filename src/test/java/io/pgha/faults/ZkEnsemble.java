package io.pgha.faults;

import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.LogFiles;
import io.pgha.launch.RunAs;
import io.pgha.launch.ZooKeeperProcess;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Three {@code pgha zookeeper} servers forming one ensemble with ZooKeeper's own defaults (tickTime 2000,
 * initLimit 10, syncLimit 5, session timeouts clamped to [4, 40] s), as users run it, rather than the tuned
 * settings of {@code launch/ZooKeeperServerSettings}. Clients may connect on any loopback address (the servers
 * listen on the wildcard address), so each member can get an address of its own to be partitioned on.
 */
final class ZkEnsemble implements AutoCloseable {

  static final int TICK_TIME_MS = 2_000;
  private static final String SERVER_MAIN = "io.pgha.zk.ZooKeeperCommand";
  private static final Duration PROBE_TIMEOUT = Duration.ofMillis(500);

  /** One server: its own process, restartable on the same port and data. */
  final class Server {
    final int id;
    final int clientPort;
    final Path dir;
    private Process process;
    private boolean stopped;

    Server(int id, int clientPort, Path dir) {
      this.id = id;
      this.clientPort = clientPort;
      this.dir = dir;
    }

    void launch() {
      List<String> command = new ArrayList<>(List.of(RunAs.javaBinary(), "-Xmx128m", "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1", "-cp", jar.toString(), SERVER_MAIN, "--port", Integer.toString(clientPort),
          "--data", dir.resolve("data").toString(), "--id", Integer.toString(id), "--servers", serversSpec,
          "--config", dir.resolve("zoo.cfg").toString()));
      try {
        process = new ProcessBuilder(command).directory(dir.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("zookeeper.log").toFile()))
            .start();
        Processes.track(process.toHandle());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start ZooKeeper server " + id, e);
      }
    }

    long pid() {
      return process.pid();
    }

    boolean isAlive() {
      return process != null && process.isAlive();
    }

    /** {@code leader}, {@code follower}, or null when it does not serve (down, frozen, no quorum). */
    String mode() {
      String reply = ZooKeeperProcess.fourLetterWord(clientPort, "srvr");
      if (reply == null) {
        return null;
      }
      return reply.lines().filter(l -> l.startsWith("Mode: ")).map(l -> l.substring(6).trim()).findFirst()
          .orElse(null);
    }

    void kill() {
      if (isAlive()) {
        process.destroyForcibly();
        waitExit(process, Duration.ofSeconds(5));
      }
    }

    void stop(boolean frozenMaybe) {
      if (!isAlive()) {
        return;
      }
      if (frozenMaybe) {
        LocalCluster.signal(process.pid(), "CONT");
      }
      process.destroy();
      if (!waitExit(process, Duration.ofSeconds(10))) {
        kill();
      }
    }

    void freeze() {
      stopped = true;
      LocalCluster.signal(process.pid(), "STOP");
    }

    void thaw() {
      if (stopped && isAlive()) {
        LocalCluster.signal(process.pid(), "CONT");
      }
      stopped = false;
    }

    @Override
    public String toString() {
      return "zk" + id + " (127.0.0.1:" + clientPort + ")";
    }
  }

  private final Path jar;
  private final String serversSpec;
  private final List<Server> servers = new ArrayList<>();

  private ZkEnsemble(Path jar, String serversSpec) {
    this.jar = jar;
    this.serversSpec = serversSpec;
  }

  /** Starts three servers under {@code baseDir}/zk{1,2,3} and waits until all serve. */
  static ZkEnsemble start(Path jar, Path baseDir, Duration timeout) {
    Map<Integer, String> quorum = new LinkedHashMap<>();
    for (int id = 1; id <= 3; id++) {
      quorum.put(id, "127.0.0.1:" + FreePorts.next() + ":" + FreePorts.next());
    }
    String spec = quorum.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
    ZkEnsemble ensemble = new ZkEnsemble(jar.toAbsolutePath(), spec);
    try {
      for (int id = 1; id <= 3; id++) {
        Path dir = baseDir.resolve("zk" + id);
        Files.createDirectories(dir);
        // ZooKeeper's defaults, written out because pgha's server settings tune them for HA timing
        Files.writeString(dir.resolve("zoo.cfg"), String.join("\n",
            "tickTime=" + TICK_TIME_MS,
            "initLimit=10",
            "syncLimit=5",
            "minSessionTimeout=" + 2 * TICK_TIME_MS,
            "maxSessionTimeout=" + 20 * TICK_TIME_MS,
            "clientPortAddress=0.0.0.0",
            ""));
        Server server = ensemble.new Server(id, FreePorts.next(), dir);
        ensemble.servers.add(server);
        server.launch();
      }
      ensemble.awaitAllServing(timeout);
      return ensemble;
    } catch (IOException e) {
      ensemble.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      ensemble.close();
      throw e;
    }
  }

  List<Server> servers() {
    return List.copyOf(servers);
  }

  /** Connect string for clients reaching the ensemble through {@code address} (e.g. 127.0.1.2). */
  String connectString(String address) {
    return servers.stream().map(s -> address + ":" + s.clientPort).collect(Collectors.joining(","));
  }

  List<Integer> clientPorts() {
    return servers.stream().map(s -> s.clientPort).toList();
  }

  /** Waits until every live server reports a mode; throws with the log tails otherwise. */
  void awaitAllServing(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (servers.stream().allMatch(s -> s.mode() != null)) {
        return;
      }
      LocalCluster.sleep(Duration.ofMillis(200));
    }
    StringBuilder tails = new StringBuilder();
    servers.forEach(s -> tails.append(s).append(": ").append(LogFiles.tail(s.dir.resolve("zookeeper.log"), 15))
        .append('\n'));
    throw new IllegalStateException("ZooKeeper ensemble not serving after " + timeout + "\n" + tails);
  }

  /** The server that is the ensemble's leader now, or null. */
  Server leader() {
    return servers.stream().filter(s -> "leader".equals(s.mode())).findFirst().orElse(null);
  }

  @Override
  public void close() {
    servers.forEach(Server::thaw);
    servers.forEach(s -> s.stop(true));
  }

  private static boolean waitExit(Process process, Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }
}
