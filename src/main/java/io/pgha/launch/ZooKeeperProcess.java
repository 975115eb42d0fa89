package io.pgha.launch;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
 * A ZooKeeper server ({@code pgha zookeeper}) in a separate OS process, so tests can SIGTERM, SIGKILL and restart
 * it like a real one. Runs as the current user: ZooKeeper does not touch PostgreSQL files. The server class is
 * started by name, so this does not depend on the jar's main-class dispatch.
 */
public final class ZooKeeperProcess implements AutoCloseable {

  private static final String SERVER_MAIN = "io.pgha.zk.ZooKeeperCommand";
  private static final List<String> JVM_FLAGS = List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);
  private static final Duration PROBE_TIMEOUT = Duration.ofMillis(500);

  private final Path jar;
  private final int clientPort;
  private final Path dataDir;
  private final Path logFile;
  private final Integer id;
  private final Map<Integer, String> servers;
  /** More {@code pgha zookeeper} options, such as {@code --tick-time 2000} or {@code --tls-port N}. */
  private final List<String> extraArgs;
  private Process process;

  private ZooKeeperProcess(Path jar, int clientPort, Path dataDir, Path logFile, Integer id,
      Map<Integer, String> servers) {
    this(jar, clientPort, dataDir, logFile, id, servers, List.of());
  }

  private ZooKeeperProcess(Path jar, int clientPort, Path dataDir, Path logFile, Integer id,
      Map<Integer, String> servers, List<String> extraArgs) {
    this.extraArgs = List.copyOf(extraArgs);
    this.jar = jar.toAbsolutePath();
    this.clientPort = clientPort;
    this.dataDir = dataDir.toAbsolutePath();
    this.logFile = logFile.toAbsolutePath();
    this.id = id;
    this.servers = Map.copyOf(servers);
  }

  /** Starts a standalone server; call {@link #waitServing} before use. */
  public static ZooKeeperProcess start(Path jar, int clientPort, Path dataDir, Path logFile) {
    ZooKeeperProcess zk = new ZooKeeperProcess(jar, clientPort, dataDir, logFile, null, Map.of());
    zk.launch();
    return zk;
  }

  /**
   * Starts a standalone server with more {@code pgha zookeeper} options ({@code --tls-port ...}); a TLS-only one
   * cannot be probed by {@link #waitServing}: wait with a client of the right kind.
   */
  public static ZooKeeperProcess start(Path jar, int clientPort, Path dataDir, Path logFile, List<String> extraArgs) {
    ZooKeeperProcess zk = new ZooKeeperProcess(jar, clientPort, dataDir, logFile, null, Map.of(), extraArgs);
    zk.launch();
    return zk;
  }

  /** Starts member {@code id} of an ensemble ({@code servers}: id to {@code host:quorumPort:electionPort}). */
  public static ZooKeeperProcess start(Path jar, int clientPort, Path dataDir, Path logFile, int id,
      Map<Integer, String> servers) {
    return start(jar, clientPort, dataDir, logFile, id, servers, List.of());
  }

  private static ZooKeeperProcess start(Path jar, int clientPort, Path dataDir, Path logFile, int id,
      Map<Integer, String> servers, List<String> extraOptions) {
    ZooKeeperProcess zk = new ZooKeeperProcess(jar, clientPort, dataDir, logFile, id, servers, extraOptions);
    zk.launch();
    return zk;
  }

  /**
   * Starts {@code size} ensemble members on free 127.0.0.1 ports, data and logs under {@code baseDir}/zk{id}, and
   * waits until every one serves. Stops them all if that fails.
   */
  public static List<ZooKeeperProcess> startEnsemble(Path jar, Path baseDir, int size, Duration timeout) {
    return startEnsemble(jar, baseDir, size, timeout, List.of());
  }

  /** The same, each server given {@code extraOptions} (say {@code --tick-time 2000} for a stock tick). */
  public static List<ZooKeeperProcess> startEnsemble(Path jar, Path baseDir, int size, Duration timeout,
      List<String> extraOptions) {
    Map<Integer, String> servers = new LinkedHashMap<>();
    Map<Integer, Integer> clientPorts = new LinkedHashMap<>();
    for (int id = 1; id <= size; id++) {
      servers.put(id, "127.0.0.1:" + FreePorts.next() + ":" + FreePorts.next());
      clientPorts.put(id, FreePorts.next());
    }
    List<ZooKeeperProcess> members = new ArrayList<>();
    try {
      for (int id = 1; id <= size; id++) {
        Path dir = baseDir.resolve("zk" + id);
        members.add(start(jar, clientPorts.get(id), dir.resolve("data"), dir.resolve("zookeeper.log"), id, servers,
            extraOptions));
      }
      for (ZooKeeperProcess member : members) {
        member.waitServing(timeout);
      }
      return members;
    } catch (RuntimeException e) {
      members.forEach(ZooKeeperProcess::close);
      throw e;
    }
  }

  /** Comma-separated connect string of several servers. */
  public static String connectString(List<ZooKeeperProcess> servers) {
    return servers.stream().map(ZooKeeperProcess::connectString).collect(Collectors.joining(","));
  }

  private void launch() {
    List<String> command = new ArrayList<>(List.of(RunAs.javaBinary()));
    command.addAll(JVM_FLAGS);
    command.addAll(List.of("-cp", jar.toString(), SERVER_MAIN,
        "--port", Integer.toString(clientPort), "--data", dataDir.toString()));
    if (id != null) {
      command.addAll(List.of("--id", id.toString(), "--servers", serversSpec()));
    }
    command.addAll(extraArgs);
    try {
      Files.createDirectories(logFile.getParent());
      process = new ProcessBuilder(command)
          .directory(logFile.getParent().toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .start();
      ChildProcesses.register(process.toHandle());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
    }
  }

  private String serversSpec() {
    return servers.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(","));
  }

  /**
   * Waits until the server serves clients: the {@code srvr} four-letter command reports a {@code Mode:} only then
   * (an ensemble member without quorum answers "not currently serving requests"; {@code ruok} would say imok).
   */
  public void waitServing(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("ZooKeeper on " + connectString() + " exited with " + process.exitValue()
            + ":\n" + LogFiles.tail(logFile, 30));
      }
      if (isServing()) {
        return;
      }
      sleep(Duration.ofMillis(100));
    }
    throw new IllegalStateException("ZooKeeper on " + connectString() + " not serving after " + timeout
        + ":\n" + LogFiles.tail(logFile, 30));
  }

  /** Whether the server answers {@code srvr} with a mode (standalone, leader or follower). */
  public boolean isServing() {
    String reply = fourLetterWord(clientPort, "srvr");
    return reply != null && reply.contains("Mode: ");
  }

  /** The server's mode ({@code standalone}, {@code leader}, {@code follower}) or null when not serving. */
  public String mode() {
    String reply = fourLetterWord(clientPort, "srvr");
    if (reply == null) {
      return null;
    }
    return reply.lines().filter(l -> l.startsWith("Mode: ")).map(l -> l.substring(6).trim()).findFirst().orElse(null);
  }

  /** Sends a four-letter word ({@code srvr}, {@code ruok}...) to the server on 127.0.0.1:{@code port}; null if none answers. */
  public static String fourLetterWord(int port, String word) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), (int) PROBE_TIMEOUT.toMillis());
      socket.setSoTimeout((int) PROBE_TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(word.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return null;
    }
  }

  public String connectString() {
    return "127.0.0.1:" + clientPort;
  }

  public int clientPort() {
    return clientPort;
  }

  public Path logFile() {
    return logFile;
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGTERM and wait for the server to exit (SIGKILL after 10 s). */
  public void stop() {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    if (!waitExit(STOP_GRACE)) {
      kill();
    }
  }

  /** SIGKILL, as a crash or power loss would. */
  public void kill() {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroyForcibly();
    waitExit(Duration.ofSeconds(5));
  }

  /** Starts the server again on the same port and data dir (stopping it first if it still runs). */
  public void restart() {
    stop();
    launch();
  }

  private boolean waitExit(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "ZooKeeper " + connectString() + (id != null ? " (id " + id + ")" : "");
  }
}
