package io.pgha.launch;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One agent ({@code java -jar pgha.jar <config>}) running as a separate OS process, as the unprivileged user when
 * this JVM is root, with stdout and stderr appended to a log file. Signals go to the agent process only: the
 * postmaster it started is not in its process tree's signal path, exactly as when an operator kills the agent.
 *
 * <p>{@value #AGENT_CMD_ENV} replaces {@code java ... -jar <jar>} by another command taking the config file as its
 * last argument (e.g. {@code patroni}), to check orchestration against the reference agent.
 */
public final class AgentProcess implements AutoCloseable {

  /** Environment variable holding a replacement agent command (whitespace-separated), for debugging only. */
  public static final String AGENT_CMD_ENV = "PGHA_AGENT_CMD";

  /**
   * The flags bin/pgha gives the agent (each explained there; JvmFlagsTest keeps the two equal): serial GC, small
   * stacks, one C1 compiler thread, a small heap that gives memory back, a small code cache, no perf-data sampler.
   * An HA agent is mostly idle and three of them share small machines.
   */
  public static final List<String> AGENT_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-Xss512k", "-XX:TieredStopAtLevel=1",
      "-XX:CICompilerCount=1", "-Xms8m", "-Xmx64m", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30",
      "-XX:ReservedCodeCacheSize=16m", "-XX:-UsePerfData", "-XX:+UnlockDiagnosticVMOptions",
      "-XX:AsyncDeflationInterval=10000");

  private static final Duration CLOSE_SIGTERM_GRACE = Duration.ofSeconds(30);

  private final Path configFile;
  private final Path logFile;
  private final Process process;
  /** Set once we signal the agent: its exit is then expected, not a failure. */
  private volatile boolean signalled;

  private AgentProcess(Path configFile, Path logFile, Process process) {
    this.configFile = configFile;
    this.logFile = logFile;
    this.process = process;
  }

  /** Starts the agent for {@code configFile} in the config file's directory, appending its output to logFile. */
  public static AgentProcess start(Path jar, Path configFile, Path logFile, Map<String, String> extraEnv) {
    return start(agentCommand(jar.toAbsolutePath(), configFile.toAbsolutePath()), configFile, logFile, extraEnv);
  }

  /**
   * Starts {@code agentCommand} (which ends with the config file, e.g. {@code patroni <config>} for the reference
   * agent) as {@link #start(Path, Path, Path, Map)} starts pgha's.
   */
  public static AgentProcess start(List<String> agentCommand, Path configFile, Path logFile,
      Map<String, String> extraEnv) {
    Path config = configFile.toAbsolutePath();
    Path workDir = config.getParent();
    List<String> command = RunAs.wrap(agentCommand);
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(workDir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    builder.environment().putAll(RunAs.environment());
    // as bin/pgha: two glibc malloc arenas instead of up to eight per core
    builder.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
    builder.environment().putAll(extraEnv);
    try {
      Files.createDirectories(logFile.toAbsolutePath().getParent());
      if (!Files.exists(logFile)) {
        Files.createFile(logFile);
      }
      // the agent may reopen its log itself; as root we opened it, so hand it over
      RunAs.unprivilegedUser().ifPresent(user -> RunAs.chownRecursive(logFile, user));
      Process process = builder.start();
      ChildProcesses.register(process.toHandle());
      return new AgentProcess(config, logFile, process);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start agent " + String.join(" ", command), e);
    }
  }

  static List<String> agentCommand(Path jar, Path config) {
    List<String> command = new ArrayList<>();
    String override = System.getenv(AGENT_CMD_ENV);
    if (override != null && !override.isBlank()) {
      command.addAll(Arrays.asList(override.trim().split("\\s+")));
    } else {
      command.add(RunAs.javaBinary());
      command.addAll(AGENT_JVM_FLAGS);
      // as bin/pgha: the class-data archive made for this jar, when there is one (benchmarks make it; tests don't)
      ClassArchive.existing(jar).ifPresent(archive -> command.addAll(ClassArchive.flags(archive)));
      // as bin/pgha: extra JVM flags after the defaults, so that they win
      String javaOpts = System.getenv("PGHA_JAVA_OPTS");
      if (javaOpts != null && !javaOpts.isBlank()) command.addAll(Arrays.asList(javaOpts.trim().split("\\s+")));
      command.add("-jar");
      command.add(jar.toString());
    }
    command.add(config.toString());
    return command;
  }

  /** The agent's pid (setpriv execs the agent, so this is the agent itself, not a wrapper). */
  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path configFile() {
    return configFile;
  }

  public Path logFile() {
    return logFile;
  }

  /** Exit code, or -1 while running. */
  public int exitCode() {
    return process.isAlive() ? -1 : process.exitValue();
  }

  /** SIGTERM to the agent: it should stop PostgreSQL and release the leader key. */
  public void sigterm() {
    signalled = true;
    process.destroy();
  }

  /** SIGKILL to the agent only; the postmaster it started keeps running. */
  public void sigkill() {
    signalled = true;
    process.destroyForcibly();
  }

  /** Whether the agent exited although nobody signalled it (a crash or a refusal to start). */
  public boolean exitedByItself() {
    return !signalled && !process.isAlive();
  }

  /** Waits up to {@code timeout} for the agent to exit; true if it has. */
  public boolean waitFor(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }

  /** The last {@code lines} lines of the log file, for error reports. */
  public String logTail(int lines) {
    return LogFiles.tail(logFile, lines);
  }

  /** SIGTERM, then SIGKILL if the agent has not exited within 30 s. */
  @Override
  public void close() {
    stop(CLOSE_SIGTERM_GRACE);
  }

  /** SIGTERM, then SIGKILL if the agent has not exited within {@code grace}. True if SIGTERM was enough. */
  public boolean stop(Duration grace) {
    if (!process.isAlive()) {
      return true;
    }
    sigterm();
    if (waitFor(grace)) {
      return true;
    }
    sigkill();
    waitFor(Duration.ofSeconds(5));
    return false;
  }

  @Override
  public String toString() {
    return "agent pid " + pid() + " (" + configFile.getFileName() + ")";
  }
}
