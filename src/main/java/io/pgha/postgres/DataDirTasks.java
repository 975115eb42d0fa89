package io.pgha.postgres;

import io.pgha.config.Credentials;
import io.pgha.config.PghaConfig;
import io.pgha.config.PostgresqlConfig;
import io.pgha.config.ShellWords;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The long tasks on this member's data directory, on the supervisor's worker pool: initdb and what a new cluster
 * needs (roles, post_bootstrap), pg_basebackup, pg_rewind (part of {@link PostgresSupervisor}).
 */
final class DataDirTasks {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresSupervisor.class);

  private final PghaConfig config;
  private final PostgresqlConfig pg;
  private final WorkerExecutor longTasks;

  DataDirTasks(PghaConfig config, WorkerExecutor longTasks) {
    this.config = config;
    this.pg = config.postgresql();
    this.longTasks = longTasks;
  }

  /** initdb with bootstrap.initdb options, then pg_hba lines from bootstrap.pg_hba, then the base config. */
  Future<Void> initdb() {
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
  List<String> bootstrapRoleStatements() {
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
  Future<Void> postBootstrapScript() {
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
  Future<Void> basebackup(String host, int port) {
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

  /**
   * pg_rewind from {@code host:port}. With {@code dryRun}, succeeds only when no rewind is needed (use_pg_rewind
   * off: the data directory may follow as it is, or must be cloned again).
   */
  Future<Void> rewind(String host, int port, boolean dryRun) {
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

  static void wipe(Path dir) throws IOException {
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
}
