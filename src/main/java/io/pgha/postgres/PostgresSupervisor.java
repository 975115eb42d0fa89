package io.pgha.postgres;

import io.pgha.config.Credentials;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the postmaster of this member: spawns it as a child process in its own session (so an agent restart spares
 * it and a postmaster death is known from the process itself, at once), stops it with escalation, and runs the long
 * operations (initdb, pg_basebackup, pg_rewind, crash recovery) on a worker pool, never on an event loop.
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
  private volatile ProcessHandle postmaster;
  private volatile boolean stopRequested;
  private volatile CompletableFuture<Void> exited = CompletableFuture.completedFuture(null);

  public PostgresSupervisor(Context context, PghaConfig config, Consumer<PostmasterEvent> onPostmaster) {
    this.context = context;
    this.config = config;
    this.pg = config.postgresql();
    this.onPostmaster = onPostmaster;
    this.longTasks = context.owner().createSharedWorkerExecutor("pgha-pg-long", 2, 2, TimeUnit.HOURS);
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
      ConfigFiles.writePgpass(pg);
      writePostgresqlConf(params, recovery);
      Path log = logFile();
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
      ready.tryFail("postgres exited during start-up (see " + logFile() + ")");
      return;
    }
    // a postmaster killed with SIGKILL leaves its postmaster.pid (saying "ready") behind: only ours counts
    String status = postmasterPidFileOwner() == pid ? readinessStatus() : null;
    if ("ready".equals(status) || "standby".equals(status)) {
      ready.tryComplete(true);
      return;
    }
    if (System.nanoTime() > deadlineNanos) {
      ready.tryComplete(false);
      return;
    }
    context.owner().setTimer(READY_POLL_MS, t -> pollReady(pid, deadlineNanos, ready));
  }

  private long postmasterPidFileOwner() {
    try {
      List<String> lines = Files.readAllLines(pg.dataDir().resolve("postmaster.pid"), StandardCharsets.UTF_8);
      return lines.isEmpty() ? 0 : Long.parseLong(lines.get(0).trim());
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  /** Line 8 of postmaster.pid: {@code starting}, {@code ready}, {@code standby}, {@code stopping}; null if none. */
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
    signal(handle.pid(), mode == StopMode.SMART ? "TERM" : mode == StopMode.FAST ? "INT" : "QUIT");
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

  /** Forks {@code kill} on a worker: a fork must not run on the caller's event loop. */
  private void signal(long pid, String signal) {
    context.owner().executeBlocking(() -> {
      try {
        new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).start();
      } catch (IOException e) {
        LOG.error("cannot signal pid {}: {}", pid, e.toString());
      }
      return null;
    }, true);
  }

  /** initdb with bootstrap.initdb options, then pg_hba lines from bootstrap.pg_hba, then the base config. */
  public Future<Void> initdb() {
    return blocking(() -> {
      Files.createDirectories(pg.dataDir().getParent());
      List<String> command = new ArrayList<>(List.of(bin("initdb"), "-D", pg.dataDir().toString(),
          "--username=" + pg.superuser().username()));
      Path pwfile = null;
      if (pg.superuser().password() != null) {
        pwfile = Files.createTempFile("pgha-pw", ".txt",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(pwfile, pg.superuser().password() + "\n");
        command.add("--pwfile=" + pwfile);
      }
      command.addAll(config.bootstrap().initdbArgs());
      try {
        ProcessRunner.Result r = ProcessRunner.run(command, Map.of(), Duration.ofMinutes(10));
        if (!r.ok()) throw new IOException("initdb failed: " + r.lastLine());
      } finally {
        if (pwfile != null) Files.deleteIfExists(pwfile);
      }
      ConfigFiles.adoptBaseConf(pg.configDir());
      if (pg.pgHba() == null && !config.bootstrap().pgHba().isEmpty()) {
        ConfigFiles.writePgHba(pg.configDir(), config.bootstrap().pgHba(), true);
      }
      return null;
    });
  }

  /** The roles a new cluster needs (§3.14): superuser password, replication user, rewind user. */
  public List<String> bootstrapRoleStatements() {
    List<String> sql = new ArrayList<>();
    sql.add("SET log_statement TO 'none'");
    Credentials su = pg.superuser();
    if (su.password() != null) sql.add("ALTER ROLE " + ident(su.username()) + " WITH PASSWORD " + literal(su.password()));
    Credentials repl = pg.replication();
    if (repl != null && !repl.username().equals(su.username())) {
      sql.add(createOrAlterRole(repl, "LOGIN REPLICATION"));
    }
    Credentials rewind = pg.rewind();
    if (rewind != null && !rewind.username().equals(su.username())) {
      sql.add(createOrAlterRole(rewind, "LOGIN"));
      for (String fn : List.of("pg_catalog.pg_ls_dir(text, boolean, boolean)", "pg_catalog.pg_stat_file(text, boolean)",
          "pg_catalog.pg_read_binary_file(text)", "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)")) {
        sql.add("GRANT EXECUTE ON FUNCTION " + fn + " TO " + ident(rewind.username()));
      }
    }
    return sql;
  }

  private static String createOrAlterRole(Credentials c, String options) {
    String password = c.password() == null ? "" : " PASSWORD " + literal(c.password());
    return "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = " + literal(c.username()) + ") THEN "
        + "ALTER ROLE " + ident(c.username()) + " WITH " + options + password + "; ELSE "
        + "CREATE ROLE " + ident(c.username()) + " WITH " + options + password + "; END IF; END$$";
  }

  static String ident(String s) {
    return "\"" + s.replace("\"", "\"\"") + "\"";
  }

  static String literal(String s) {
    return "'" + s.replace("'", "''") + "'";
  }

  /** Runs bootstrap.post_bootstrap, as {@code <script> '<dsn without password>'}. */
  public Future<Void> postBootstrapScript() {
    String script = config.bootstrap().postBootstrap();
    if (script == null || script.isBlank()) return Future.succeededFuture();
    return blocking(() -> {
      String dsn = PgConnections.conninfo(pg.localConnectHost(), pg.port(), pg.superuser(), pg.database());
      List<String> command = postBootstrapCommand(script, dsn);
      ProcessRunner.Result r = ProcessRunner.run(command, Map.of("PGPASSFILE", pg.pgpass().toString(),
          "PGOPTIONS", "-c synchronous_commit=local -c statement_timeout=0"), Duration.ofHours(1));
      if (!r.ok()) throw new IOException("post_bootstrap script failed: " + r.lastLine());
      return null;
    });
  }

  /** Patroni's {@code shlex.split(post_bootstrap) + [dsn]}: words as a POSIX shell splits them, then the DSN. */
  static List<String> postBootstrapCommand(String script, String dsn) {
    List<String> command = new ArrayList<>(ShellWords.split(script.trim()));
    command.add(dsn);
    return command;
  }

  /** pg_basebackup from {@code host:port} into an emptied data directory. */
  public Future<Void> basebackup(String host, int port) {
    return blocking(() -> {
      wipe(pg.dataDir());
      ConfigFiles.writePgpass(pg);
      List<String> command = new ArrayList<>(List.of(bin("pg_basebackup"), "--pgdata=" + pg.dataDir(), "-X", "stream",
          "--dbname=" + PgConnections.conninfo(host, port, pg.replication(), pg.database())
              + " application_name=" + PgConnections.value(config.name())));
      boolean checkpointGiven = pg.basebackupArgs().stream().anyMatch(a -> a.startsWith("--checkpoint"));
      if (!checkpointGiven) command.add("--checkpoint=fast");
      command.addAll(pg.basebackupArgs());
      ProcessRunner.Result r = ProcessRunner.run(command, Map.of("PGPASSFILE", pg.pgpass().toString()),
          Duration.ofHours(12));
      if (!r.ok()) {
        wipe(pg.dataDir());
        throw new IOException("pg_basebackup from " + host + ":" + port + " failed: " + r.lastLine());
      }
      ConfigFiles.adoptBaseConf(pg.configDir());
      markStandby();
      return null;
    });
  }

  /**
   * A base backup's pg_control still says "in production" and a rewound one may say "shut down": the standby
   * signal is what tells this data directory apart from a former primary, so it is written as soon as it is one.
   */
  private void markStandby() throws IOException {
    Path signal = pg.dataDir().resolve("standby.signal");
    if (!Files.exists(signal)) Files.createFile(signal);
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
    return blocking(() -> {
      ConfigFiles.writePgpass(pg);
      Credentials user = pg.rewind() != null ? pg.rewind() : pg.superuser();
      List<String> command = new ArrayList<>(List.of(bin("pg_rewind"), "-D", pg.dataDir().toString(),
          "--source-server=" + PgConnections.conninfo(host, port, user, pg.database())));
      if (dryRun) command.add("--dry-run");
      ProcessRunner.Result r = ProcessRunner.run(command, Map.of("PGPASSFILE", pg.pgpass().toString(),
          "PGOPTIONS", "-c statement_timeout=0", "LC_ALL", "C"), Duration.ofHours(1));
      if (!r.ok()) throw new IOException("pg_rewind failed: " + r.lastLine());
      if (dryRun && !r.output().contains("no rewind required")) {
        throw new IOException("pg_rewind --dry-run: a rewind is needed and use_pg_rewind is off");
      }
      LOG.info("pg_rewind{}: {}", dryRun ? " --dry-run" : "", r.lastLine());
      markStandby();
      return null;
    });
  }

  /** A leader's timeline and the text of its history file ({@code ""} on timeline 1, which has none). */
  public record LeaderTimeline(int timeline, String history) {}

  /**
   * The leader's current timeline ({@code IDENTIFY_SYSTEM}) and history ({@code TIMELINE_HISTORY}), asked over a
   * replication connection as the replication user, with the pgpass pg_basebackup uses. This is the authority on
   * where the leader's timeline forked: the {@code history} znode is written by the new leader only a cycle after it
   * promoted, may be truncated (max_timelines_history), and may still be an older leader's.
   */
  public Future<LeaderTimeline> leaderTimeline(String host, int port) {
    return blocking(() -> {
      ConfigFiles.writePgpass(pg);
      String dsn = replicationDsn(host, port);
      String identify = replicationCommand(dsn, "IDENTIFY_SYSTEM");
      String[] fields = identify.strip().split("\\|");
      int timeline;
      try {
        timeline = Integer.parseInt(fields[1].trim());
      } catch (RuntimeException e) {
        throw new IOException("IDENTIFY_SYSTEM on " + host + ":" + port + " answered " + identify.strip());
      }
      if (timeline <= 1) return new LeaderTimeline(timeline, "");
      String answer = replicationCommand(dsn, "TIMELINE_HISTORY " + timeline);
      int bar = answer.indexOf('|');
      if (bar < 0) throw new IOException("TIMELINE_HISTORY " + timeline + " on " + host + ":" + port + " answered "
          + answer.strip());
      return new LeaderTimeline(timeline, answer.substring(bar + 1));
    });
  }

  /** A running postgres's timeline and WAL position as {@code IDENTIFY_SYSTEM} reports them. */
  public record WalPosition(int timeline, long lsn) {}

  /**
   * {@code IDENTIFY_SYSTEM} on a postgres, over a replication connection as the replication user. On a standby it
   * answers the timeline and position of max(flushed receive, replay) read together, where pg_stat_wal_receiver's
   * {@code received_tli} and the written position may disagree for a moment around a timeline switch.
   */
  public Future<WalPosition> identifySystem(String host, int port) {
    return blocking(() -> {
      ConfigFiles.writePgpass(pg);
      String answer = replicationCommand(replicationDsn(host, port), "IDENTIFY_SYSTEM");
      String[] fields = answer.strip().split("\\|");
      try {
        return new WalPosition(Integer.parseInt(fields[1].trim()), Lsn.parse(fields[2].trim()));
      } catch (RuntimeException e) {
        throw new IOException("IDENTIFY_SYSTEM on " + host + ":" + port + " answered " + answer.strip());
      }
    });
  }

  private String replicationDsn(String host, int port) {
    // the replication user's libpq keys (sslmode, sslcert...) as for pg_basebackup: a TLS-only pg_hba refuses others
    return PgConnections.conninfo(host, port, pg.replication(), pg.database())
        + " replication=1 connect_timeout=3 application_name=pgha-timeline-check";
  }

  private String replicationCommand(String dsn, String command) throws IOException {
    ProcessRunner.Result r = ProcessRunner.run(List.of(bin("psql"), "-XAtq", "-v", "ON_ERROR_STOP=1", dsn, "-c", command),
        Map.of("PGPASSFILE", pg.pgpass().toString(), "LC_ALL", "C"), Duration.ofSeconds(10));
    if (!r.ok()) {
      // psql's first line names the error; a HINT or DETAIL may follow
      String error = r.output().strip().lines().findFirst().orElse("exit code " + r.exitCode());
      throw new IOException(command.split(" ")[0] + " failed: " + error);
    }
    return r.output();
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
      wipe(pg.dataDir());
      return null;
    });
  }

  /** Empties the data directory (keeping the directory itself, whose ownership and mode an operator may have set). */
  private static void wipe(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        if (!p.equals(dir)) Files.delete(p);
      }
    }
  }

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
