package io.pgha.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.api.ClusterJson;
import io.pgha.dcs.ClusterSnapshot.Member;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code query [CLUSTER] [-r ROLE | -m MEMBER] (-c SQL | -f FILE) [-U USER] [--password] [-d DB] [--format FMT]
 * [--delimiter D] [-W | -w N]} (§7.8): runs SQL on the leader or the member asked for through the Vert.x PostgreSQL
 * client (a plain, non-clustered Vert.x made for this command only) and prints the rows of the last statement.
 *
 * <p>Connection defaults are libpq's: user {@code $PGUSER} or the login name, database the user's name, password
 * {@code $PGPASSWORD} or a matching {@code ~/.pgpass} ({@code $PGPASSFILE}) line; {@code --password} asks first, and
 * when the server wants a password none of those gave, it is asked for once. Errors print as patronictl prints them:
 * a row {@code <time> ERROR, SQLSTATE: <code>} (and exit code 1).
 */
final class QueryCommand {
  private static final long CONNECT_TIMEOUT_MS = 5_000;
  private static final Set<String> NEED_PASSWORD = Set.of("28P01", "28000");
  private static final DateTimeFormatter PY_DATETIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private QueryCommand() {}

  static int run(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .value("format", "--format")
        .value("file", "-f", "--file")
        .flag("password", "--password")
        .value("user", "-U", "--username")
        .flag("W", "-W")
        .value("watch", "-w", "--watch")
        .value("role", "-r", "--role")
        .value("member", "-m", "--member")
        .value("delimiter", "--delimiter")
        .value("command", "-c", "--command")
        .value("dbname", "-d", "--dbname")
        .value("group", "--group"), args).atMost(1);
    String memberName = parsed.value("member");
    String role = DsnCommand.target(Members.role(parsed, null), memberName);
    String file = parsed.value("file");
    String sql = parsed.value("command");
    if (file != null && sql != null) {
      throw new CtlException("--file and --command are mutually exclusive options");
    }
    if (file == null && sql == null) {
      throw new CtlException("You need to specify either --command or --file");
    }
    ClusterTable.Format format = ClusterTable.Format.parse(
        parsed.value("format") == null ? "tsv" : parsed.value("format"));
    String delimiter = parsed.value("delimiter") == null ? "\t" : parsed.value("delimiter");
    Watch watch = Watch.of(parsed.flag("W"), parsed.value("watch"));
    String user = parsed.value("user") != null ? parsed.value("user")
        : ctx.env.getOrDefault("PGUSER", System.getProperty("user.name"));
    String password = parsed.flag("password") ? ctx.prompts.password("Password") : null;
    if (file != null) {
      sql = file.equals("-") ? ctx.prompts.readAll() : readFile(file);
    }
    String clusterName = ctx.clusterName(parsed.first());

    Vertx vertx = Vertx.vertx();
    try {
      Session session = new Session(ctx, vertx, user, password, parsed.value("dbname"));
      int exitCode;
      do {
        Member member = Members.any(ctx.cluster(clusterName), role, memberName);
        exitCode = session.run(member, role, memberName, sql, format, delimiter);
      } while (watch.next());
      return exitCode;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null)
          .join();
    }
  }

  private static String readFile(String file) throws CtlException {
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CtlException("cannot read " + file + ": " + e.getMessage());
    }
  }

  /** Connection settings kept across watch rounds (a password asked for once is reused). */
  private static final class Session {
    private final CtlContext ctx;
    private final Vertx vertx;
    private final String user;
    private final String database;
    private String password;
    private boolean asked;

    Session(CtlContext ctx, Vertx vertx, String user, String password, String database) {
      this.ctx = ctx;
      this.vertx = vertx;
      this.user = user;
      this.password = password;
      this.asked = password != null;
      this.database = database;
    }

    int run(Member member, String role, String memberName, String sql, ClusterTable.Format format,
        String delimiter) throws CtlException {
      ClusterJson.HostPort address = member == null ? null : ClusterJson.hostPort(member.data());
      if (address == null) {
        return printError(memberName != null ? "No connection to member " + memberName + " is available"
            : "No connection to role=" + role + " is available", format, delimiter);
      }
      PgConnection connection = null;
      try {
        connection = connect(address);
        if (!role.equals("any") && !role.equals("leader")) {
          boolean inRecovery = await(connection.query("SELECT pg_catalog.pg_is_in_recovery()").execute(),
              CONNECT_TIMEOUT_MS)
              .iterator().next().getBoolean(0);
          boolean wanted = inRecovery ? Set.of("replica", "standby", "standby-leader").contains(role)
              : Set.of("master", "primary").contains(role);
          if (!wanted) {
            return printError("No connection to role=" + role + " is available", format, delimiter);
          }
        }
        RowSet<Row> result = await(connection.query(sql).execute(), 0);
        while (result.next() != null) {
          result = result.next();
        }
        print(result, format, delimiter);
        return 0;
      } catch (PgException e) {
        return printError("ERROR, SQLSTATE: " + e.getSqlState(), format, delimiter);
      } catch (Exception e) {
        return printError("ERROR, SQLSTATE: " + String.valueOf(e.getMessage()).replace('\n', ' '), format,
            delimiter);
      } finally {
        if (connection != null) {
          connection.close();
        }
      }
    }

    private PgConnection connect(ClusterJson.HostPort address) throws Exception {
      String db = database != null ? database : user;
      if (password == null) {
        password = ctx.env.get("PGPASSWORD");
      }
      if (password == null) {
        password = PgPass.lookup(ctx.env, address.host(), address.port() == null ? 5432 : address.port(), db, user);
      }
      while (true) {
        PgConnectOptions options = new PgConnectOptions()
            .setHost(address.host())
            .setPort(address.port() == null ? 5432 : address.port())
            .setDatabase(db)
            .setUser(user)
            .setPassword(password == null ? "" : password)
            .setReconnectAttempts(0)
            .setProperties(Map.of("application_name", "pghactl"));
        try {
          return await(PgConnection.connect(vertx, options), CONNECT_TIMEOUT_MS * 2);
        } catch (Exception e) {
          if (asked || !needsPassword(e) || password != null && !password.isEmpty()) {
            throw e;
          }
          password = ctx.prompts.password("Password");
          asked = true;
        }
      }
    }

    /** The server refused us for want of a password (or the client noticed it would need one it does not have). */
    private static boolean needsPassword(Exception e) {
      return e instanceof PgException pg ? NEED_PASSWORD.contains(pg.getSqlState())
          : String.valueOf(e.getMessage()).contains("'password' must not be empty");
    }

    private void print(RowSet<Row> result, ClusterTable.Format format, String delimiter) {
      List<String> columns = result.columnsNames() == null ? List.of() : result.columnsNames();
      if (columns.isEmpty()) {
        return; // a statement without rows (CREATE, SET...): nothing to show
      }
      List<List<Object>> rows = new ArrayList<>();
      for (Row row : result) {
        List<Object> values = new ArrayList<>();
        for (int i = 0; i < row.size(); i++) {
          values.add(pythonValue(row.getValue(i)));
        }
        rows.add(values);
      }
      ctx.out.print(new Table(columns, rows, Set.of(), null).render(format, delimiter));
    }

    private int printError(String message, ClusterTable.Format format, String delimiter) {
      List<String> columns = format == ClusterTable.Format.TSV ? List.of() : List.of("Field 1", "Field 2");
      List<List<Object>> rows = List.of(List.of(ctx.timestamp(0), message));
      ctx.out.print(new Table(columns, rows, Set.of(), null).render(format, delimiter));
      return 1;
    }
  }

  /** A column value as psycopg would give it to Python's {@code str()}/{@code json.dumps()}. */
  static Object pythonValue(Object value) {
    if (value == null || value instanceof Boolean || value instanceof Long || value instanceof Integer
        || value instanceof Double || value instanceof String) {
      return value;
    }
    if (value instanceof Short s) {
      return s.intValue();
    }
    if (value instanceof Float f) {
      return f.doubleValue();
    }
    if (value instanceof LocalDateTime t) {
      return t.format(PY_DATETIME) + micros(t.getNano());
    }
    if (value instanceof OffsetDateTime t) {
      String offset = t.getOffset().getId();
      return t.format(PY_DATETIME) + micros(t.getNano()) + (offset.equals("Z") ? "+00:00" : offset);
    }
    if (value instanceof LocalTime t) {
      return t.format(DateTimeFormatter.ofPattern("HH:mm:ss")) + micros(t.getNano());
    }
    if (value instanceof JsonObject || value instanceof JsonArray) {
      try {
        return new ObjectMapper().readTree(value.toString());
      } catch (IOException e) {
        return value.toString();
      }
    }
    if (value instanceof Buffer b) {
      return "\\x" + HexFormat.of().formatHex(b.getBytes());
    }
    return value.toString();
  }

  private static String micros(int nanos) {
    return nanos / 1000 == 0 ? "" : String.format(".%06d", nanos / 1000);
  }

  /** The future's result; {@code timeoutMs} 0 waits as long as it takes (a query may run for hours). */
  private static <T> T await(Future<T> future, long timeoutMs) throws Exception {
    try {
      return timeoutMs == 0 ? future.toCompletionStage().toCompletableFuture().get()
          : future.toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (TimeoutException e) {
      throw new TimeoutException("no answer from PostgreSQL");
    }
  }
}
