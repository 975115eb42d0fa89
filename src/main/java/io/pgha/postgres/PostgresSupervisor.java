package io.pgha.postgres;

import io.pgha.config.PghaConfig;
import io.pgha.config.PostgresqlConfig;
import io.pgha.decision.Action.StopMode;
import io.pgha.decision.DataDirState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the postmaster of this member: spawns it as a child process in its own session (so an agent restart spares
 * it and a postmaster death is known from the process itself, at once), stops it with escalation, and runs the long
 * operations (initdb, pg_basebackup, pg_rewind, crash recovery) on a worker pool, never on an event loop.
 *
 * <p>Here: the postmaster's life (start, adopt, watch, stop, signals) and its configuration files; the data
 * directory's long tasks are {@link DataDirTasks}, the questions asked over a replication connection
 * {@link ReplicationQueries}.
 */
public final class PostgresSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresSupervisor.class);
  private static final long READY_POLL_MS = 20;
  private static final long ADOPTED_POLL_MS = 100;

  private final Context context;
  private final PghaConfig config;
  private final PostgresqlConfig pg;
  private final WorkerExecutor longTasks;
  private final Consumer<PostmasterEvent> onPostmaster;
  private final DataDirTasks dataDir;
  private final ReplicationQueries replication;
  private volatile ProcessHandle postmaster;
  private volatile boolean stopRequested;
  private volatile CompletableFuture<Void> exited = CompletableFuture.completedFuture(null);
  /** The log file of the last start (found on a worker: it checks the file system). */
  private volatile Path startLog;

  public PostgresSupervisor(Context context, PghaConfig config, Consumer<PostmasterEvent> onPostmaster) {
    this.context = context;
    this.config = config;
    this.pg = config.postgresql();
    this.onPostmaster = onPostmaster;
    this.longTasks = context.owner().createSharedWorkerExecutor("pgha-pg-long", 2, 2, TimeUnit.HOURS);
    this.dataDir = new DataDirTasks(config, longTasks);
    this.replication = new ReplicationQueries(pg, longTasks);
  }

  public boolean postmasterAlive() {
    ProcessHandle p = postmaster;
    return p != null && p.isAlive();
  }

  public long postmasterPid() {
    ProcessHandle p = postmaster;
    return p == null ? 0 : p.pid();
  }

  /** Data directory contents, read from pg_controldata. */
  /** @param latestCheckpointLsn pg_control's latest checkpoint location (the shutdown checkpoint after a clean stop) */
  public record DataDirInfo(DataDirState state, String sysid, boolean cleanShutdown, long latestCheckpointLsn) {}

  public Future<DataDirInfo> inspectDataDir() {
    return blocking(() -> {
      Path data = pg.dataDir();
      if (!Files.exists(data)) return new DataDirInfo(DataDirState.EMPTY, null, false, 0);
      if (!Files.isReadable(data) || !Files.isDirectory(data)) return new DataDirInfo(DataDirState.UNREADABLE, null, false, 0);
      if (!Files.exists(data.resolve("global/pg_control"))) {
        return new DataDirInfo(DataDirState.EMPTY, null, false, 0);
      }
      ControlData cd = controlData();
      boolean standbySignal = Files.exists(data.resolve("standby.signal"));
      DataDirState state = cd.wasPrimary() && !standbySignal ? DataDirState.PRIMARY : DataDirState.REPLICA;
      return new DataDirInfo(state, cd.systemIdentifier(), cd.cleanShutdown(), cd.latestCheckpointLsn());
    });
  }

  private ControlData controlData() throws IOException {
    ProcessRunner.Result r = ProcessRunner.run(List.of(bin("pg_controldata"), "-D", pg.dataDir().toString()),
        Map.of("LC_ALL", "C"), Duration.ofSeconds(30));
    if (!r.ok()) throw new IOException("pg_controldata failed: " + r.lastLine());
    return ControlData.parse(r.output());
  }

  /** Adopts a postmaster that already runs on our data directory (agent restart), checked against /proc. */
  public Future<Boolean> adoptRunning() {
    return blocking(() -> {
      Path pidFile = pg.dataDir().resolve("postmaster.pid");
      if (!Files.exists(pidFile)) return false;
      List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
      if (lines.size() < 2) return false;
      long pid;
      try {
        pid = Long.parseLong(lines.get(0).trim());
      } catch (NumberFormatException e) {
        return false;
      }
      ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
      if (handle == null || !handle.isAlive()) return false;
      Path cmdline = Path.of("/proc/" + pid + "/cmdline");
      String cmd = Files.exists(cmdline) ? Files.readString(cmdline, StandardCharsets.ISO_8859_1) : "";
      if (!cmd.contains("postgres")) return false;
      Path dataDirOfPid = Path.of(lines.get(1).trim()).toAbsolutePath().normalize();
      if (!dataDirOfPid.equals(pg.dataDir().toAbsolutePath().normalize())) return false;
      LOG.info("adopting running postmaster pid={}", pid);
      watch(handle, false);
      return true;
    });
  }

  /**
   * Writes postgresql.conf (with recovery settings when {@code recovery} is not null), spawns the postmaster and
   * waits until it accepts connections. Fails if the postmaster exits first; completes with false if it is still
   * starting after pg_ctl_timeout (it is left running).
   */
  public Future<Boolean> start(Map<String, String> params, ConfigFiles.Recovery recovery) {
    return blocking(() -> {
      if (postmasterAlive()) throw new IllegalStateException("postmaster already running (pid " + postmasterPid() + ")");
      long waitedMs = OrphanedBackends.awaitDetached(pg.dataDir());
      if (waitedMs > 0) LOG.info("waited {} ms for the old postmaster's backends to exit before starting", waitedMs);
      ConfigFiles.writePgpass(pg);
      writePostgresqlConf(params, recovery);
      Path log = logFile();
      startLog = log;
      List<String> command = List.of("setsid", bin("postgres"), "-D", pg.dataDir().toString(),
          "--config-file=" + pg.configDir().resolve("postgresql.conf"));
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      builder.environment().keySet().removeIf(k -> k.startsWith("PATRONI_") || k.startsWith("PGHA_"));
      Process process = builder.start();
      LOG.info("started postmaster pid={} ({}; log {})", process.pid(), recovery == null ? "primary"
          : recovery.host() == null ? "standby without upstream" : "standby of " + recovery.host() + ":" + recovery.port(),
          log);
      watch(process.toHandle(), true);
      return process.pid();
    }).compose(pid -> awaitReady(pid, System.nanoTime() + TimeUnit.SECONDS.toNanos(pg.pgCtlTimeoutSeconds())));
  }

  private Path logFile() {
    Path data = pg.dataDir().toAbsolutePath();
    Path sibling = data.resolveSibling(data.getFileName() + ".log");
    return Files.isWritable(data.getParent()) ? sibling : data.resolve("postmaster.log");
  }

  /** Polls postmaster.pid's status line, as {@code pg_ctl -w} does: cheap, and needs no connection. */
  private Future<Boolean> awaitReady(long pid, long deadlineNanos) {
    Promise<Boolean> ready = Promise.promise();
    pollReady(pid, deadlineNanos, ready);
    return ready.future();
  }

  private void pollReady(long pid, long deadlineNanos, Promise<Boolean> ready) {
    if (postmasterPid() != pid || !postmasterAlive()) {
      ready.tryFail("postgres exited during start-up (see " + startLog + ")");
      return;
    }
    // a postmaster killed with SIGKILL leaves its postmaster.pid (saying "ready") behind: only ours counts.
    // The file is read on a worker: even a small file read does not belong on the event loop.
    context.owner().executeBlocking(() -> postmasterPidFileOwner() == pid ? readinessStatus() : null, false)
        .onComplete(read -> {
          String status = read.succeeded() ? read.result() : null;
          if ("ready".equals(status) || "standby".equals(status)) {
            ready.tryComplete(true);
            return;
          }
          if (System.nanoTime() > deadlineNanos) {
            ready.tryComplete(false);
            return;
          }
          context.owner().setTimer(READY_POLL_MS, t -> pollReady(pid, deadlineNanos, ready));
        });
  }

  private long postmasterPidFileOwner() {
    try {
      List<String> lines = Files.readAllLines(pg.dataDir().resolve("postmaster.pid"), StandardCharsets.UTF_8);
      return lines.isEmpty() ? 0 : Long.parseLong(lines.get(0).trim());
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Line 8 of postmaster.pid: {@code starting}, {@code ready}, {@code standby}, {@code stopping}; null if none.
   * Reads a file: call it on a worker.
   */
  public String readinessStatus() {
    try {
      List<String> lines = Files.readAllLines(pg.dataDir().resolve("postmaster.pid"), StandardCharsets.UTF_8);
      return lines.size() >= 8 ? lines.get(7).trim() : "starting";
    } catch (IOException e) {
      return null;
    }
  }

  private void watch(ProcessHandle handle, boolean child) {
    postmaster = handle;
    stopRequested = false;
    CompletableFuture<Void> done = new CompletableFuture<>();
    exited = done;
    onPostmaster.accept(new PostmasterEvent(handle.pid(), true, true, 0));
    if (child) {
      handle.onExit().thenAccept(h -> postmasterGone(handle, done));
    } else {
      pollAdopted(handle, done);
    }
  }

  /** A postmaster that is not our child gives no exit notification: poll it, briefly. */
  private void pollAdopted(ProcessHandle handle, CompletableFuture<Void> done) {
    context.owner().setTimer(ADOPTED_POLL_MS, t -> {
      if (handle.isAlive()) pollAdopted(handle, done);
      else postmasterGone(handle, done);
    });
  }

  private void postmasterGone(ProcessHandle handle, CompletableFuture<Void> done) {
    boolean expected = stopRequested;
    if (!expected) LOG.warn("postmaster pid={} exited unexpectedly", handle.pid());
    else LOG.info("postmaster pid={} stopped", handle.pid());
    done.complete(null);
    onPostmaster.accept(new PostmasterEvent(handle.pid(), false, expected, -1));
  }

  /**
   * Stops the postmaster: smart SIGTERM, fast SIGINT, immediate SIGQUIT. A stop that has not finished after
   * {@code escalateAfterMs} (default pg_ctl_timeout) becomes immediate, and two seconds later SIGKILL.
   */
  public Future<Void> stop(StopMode mode, long escalateAfterMs) {
    ProcessHandle handle = postmaster;
    if (handle == null || !handle.isAlive()) return Future.succeededFuture();
    stopRequested = true;
    CompletableFuture<Void> done = exited;
    String sig = mode == StopMode.SMART ? "TERM" : mode == StopMode.FAST ? "INT" : "QUIT";
    LOG.info("stopping postmaster pid={}: SIG{} ({} shutdown)", handle.pid(), sig, mode.name().toLowerCase());
    signal(handle.pid(), sig);
    long escalate = escalateAfterMs > 0 ? escalateAfterMs : pg.pgCtlTimeoutSeconds() * 1000L;
    long t1 = context.owner().setTimer(Math.max(1, escalate), t -> {
      if (handle.isAlive()) {
        LOG.warn("postmaster pid={} still running after {} ms: immediate shutdown", handle.pid(), escalate);
        signal(handle.pid(), "QUIT");
      }
    });
    long t2 = context.owner().setTimer(Math.max(1, escalate) + 2000, t -> {
      if (handle.isAlive()) {
        LOG.warn("postmaster pid={} ignored immediate shutdown: SIGKILL", handle.pid());
        handle.destroyForcibly();
      }
    });
    Context caller = io.vertx.core.Vertx.currentContext() != null ? io.vertx.core.Vertx.currentContext() : context;
    return Future.fromCompletionStage(done, caller).andThen(r -> {
      context.owner().cancelTimer(t1);
      context.owner().cancelTimer(t2);
    });
  }

  /**
   * {@code kill -s <signal> <pid>} (Java sends only TERM and KILL itself). Forking a process blocks, so it runs on
   * a worker, never on the event loop that asked; ordered, so a stop's signals arrive in the order they were sent.
   */
  private void signal(long pid, String signal) {
    context.owner().executeBlocking(() -> new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).start(), true)
        .onFailure(e -> LOG.error("cannot signal pid {}: {}", pid, e.toString()));
  }

  /** initdb with bootstrap.initdb options, then pg_hba lines from bootstrap.pg_hba, then the base config. */
  public Future<Void> initdb() {
    return dataDir.initdb();
  }

  /** The roles a new cluster needs (§3.14): superuser password, replication user, rewind user. */
  public List<String> bootstrapRoleStatements() {
    return dataDir.bootstrapRoleStatements();
  }

  /** Runs bootstrap.post_bootstrap, as {@code <script> '<dsn without password>'}. */
  public Future<Void> postBootstrapScript() {
    return dataDir.postBootstrapScript();
  }

  /** Patroni's {@code shlex.split(post_bootstrap) + [dsn]}: words as a POSIX shell splits them, then the DSN. */
  static List<String> postBootstrapCommand(String script, String dsn) {
    return DataDirTasks.postBootstrapCommand(script, dsn);
  }

  /** pg_basebackup from {@code host:port} into an emptied data directory. */
  public Future<Void> basebackup(String host, int port) {
    return dataDir.basebackup(host, port);
  }

  /** Single-user crash recovery, so that pg_rewind finds a cleanly shut down cluster. */
  public Future<Void> crashRecovery(Map<String, String> params) {
    return blocking(() -> {
      writePostgresqlConf(params, null);
      List<String> command = List.of(bin("postgres"), "--single", "-D", pg.dataDir().toString(),
          "--config-file=" + pg.configDir().resolve("postgresql.conf"), "-c", "archive_mode=on",
          "-c", "archive_command=false", "template1");
      ProcessRunner.Result r = ProcessRunner.run(command, Map.of(), Duration.ofHours(1));
      if (!r.ok()) throw new IOException("crash recovery failed: " + r.lastLine());
      return null;
    });
  }

  /**
   * pg_rewind from {@code host:port}. With {@code dryRun}, succeeds only when no rewind is needed (use_pg_rewind
   * off: the data directory may follow as it is, or must be cloned again).
   */
  public Future<Void> rewind(String host, int port, boolean dryRun) {
    return dataDir.rewind(host, port, dryRun);
  }

  /** A leader's timeline and the text of its history file ({@code ""} on timeline 1, which has none). */
  public record LeaderTimeline(int timeline, String history) {}

  /** The leader's timeline and history over a replication connection: see {@link ReplicationQueries}. */
  public Future<LeaderTimeline> leaderTimeline(String host, int port) {
    return replication.leaderTimeline(host, port);
  }

  /** A running postgres's timeline and WAL position as {@code IDENTIFY_SYSTEM} reports them. */
  public record WalPosition(int timeline, long lsn) {}

  /** {@code IDENTIFY_SYSTEM} on a postgres: see {@link ReplicationQueries#identifySystem}. */
  public Future<WalPosition> identifySystem(String host, int port) {
    return replication.identifySystem(host, port);
  }

  /** Rewrites postgresql.conf for a running postgres (the caller reloads it). */
  public Future<Void> writeConfig(Map<String, String> params, ConfigFiles.Recovery recovery) {
    return blocking(() -> {
      writePostgresqlConf(params, recovery);
      return null;
    });
  }

  /** What postgresql.conf says now, as last written by this agent; null before the first write. */
  public record WrittenConfig(Map<String, String> params, ConfigFiles.Recovery recovery, List<String> pgHba) {}

  private volatile WrittenConfig lastWritten;

  public WrittenConfig lastWritten() {
    return lastWritten;
  }

  private volatile List<String> dynamicPgHba;

  /** {@code postgresql.pg_hba} of the dynamic configuration (null when it has none), kept for the next write. */
  public void dynamicPgHba(List<String> lines) {
    dynamicPgHba = lines == null ? null : List.copyOf(lines);
  }

  /**
   * The pg_hba lines pgha writes, as Patroni merges the dynamic {@code postgresql} section under the member's: the
   * member's own {@code postgresql.pg_hba}, else the dynamic one, else none (pg_hba.conf is left as it is).
   */
  public List<String> effectivePgHba() {
    return pg.pgHba() != null ? pg.pgHba() : dynamicPgHba;
  }

  private void writePostgresqlConf(Map<String, String> params, ConfigFiles.Recovery recovery) throws IOException {
    List<String> hba = effectivePgHba();
    ConfigFiles.writePostgresqlConf(hba == pg.pgHba() ? pg : pg.withPgHba(hba), params, recovery, config.name());
    lastWritten = new WrittenConfig(Map.copyOf(params), recovery, hba);
    reportBaseConfOverlap(params);
  }

  private volatile java.util.Set<String> lastReportedOverlap = java.util.Set.of();

  /** §8.1: a parameter in both postgresql.base.conf and the configuration: the configuration's value wins. */
  private void reportBaseConfOverlap(Map<String, String> params) throws IOException {
    java.util.Set<String> overlap = new java.util.TreeSet<>(ConfigFiles.baseConfParameters(pg.configDir()));
    overlap.retainAll(params.keySet());
    if (overlap.equals(lastReportedOverlap)) return;
    lastReportedOverlap = overlap;
    if (!overlap.isEmpty()) {
      LOG.warn("set in both postgresql.base.conf and the configuration (the configuration wins): {}", overlap);
    }
  }

  public Future<Void> wipeDataDir() {
    return blocking(() -> {
      DataDirTasks.wipe(pg.dataDir());
      return null;
    });
  }

  /** Empties the data directory (keeping the directory itself, whose ownership and mode an operator may have set). */
  private String bin(String name) {
    return pg.binDir().resolve(name).toString();
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return longTasks.executeBlocking(work, false);
  }

  public void close() {
    longTasks.close();
  }
}
