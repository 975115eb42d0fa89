package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgha.launch.FreePorts;
import io.pgha.launch.LogFiles;
import io.pgha.launch.MemberConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real HAProxy in front of a real three-member cluster, configured as Patroni's documentation does it: a TCP
 * listener for writes whose servers are checked with {@code GET /primary} on the members' REST ports, and one for
 * reads checked with {@code GET /replica} ({@code option httpchk}, {@code http-check expect status 200},
 * {@code default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions}). Writes through HAProxy reach the
 * primary, reads land on replicas, and after {@code POST /switchover} writes follow the new primary within seconds
 * while the old one leaves the write pool. Skipped when the {@code haproxy} binary is not installed.
 */
@Tag("integration")
class HaproxyIT {

  private static final Duration CLUSTER_READY_MAX = Duration.ofSeconds(90);
  /** First checks after HAProxy starts: rise 1, inter 1s, so a few seconds at most. */
  private static final Duration POOLS_SETTLED_MAX = Duration.ofSeconds(15);
  /** Patroni's handler waits up to 2 * max(10, loop_wait) s; leave room for the answer itself. */
  private static final Duration SWITCHOVER_REQUEST_MAX = Duration.ofSeconds(40);
  /** After the switchover's 200: one check (inter 1s, rise 1) brings the new primary in, two take the old out. */
  private static final Duration WRITES_FOLLOW_MAX = Duration.ofSeconds(5);
  private static final Duration OLD_LEADER_REJOINS_MAX = Duration.ofSeconds(60);
  private static final Duration SQL_CONNECT_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration SQL_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);
  private static final int READS = 6;
  private static final int WRITES_AFTER_SWITCHOVER = 10;
  private static final String TABLE = "pgha_it_haproxy";

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final AtomicLong markers = new AtomicLong(System.currentTimeMillis() * 1000);
  private Haproxy haproxy;

  /** Runs before the extension stops the cluster, so HAProxy never outlives its servers' owner. */
  @AfterEach
  void stopHaproxy() {
    try {
      if (haproxy != null) {
        haproxy.close();
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> null)
          .join();
    }
  }

  @Test
  void writesReachThePrimaryAndFollowASwitchover() throws Exception {
    Optional<Path> binary = Haproxy.binary();
    assumeTrue(binary.isPresent(), "haproxy is not installed (Debian package haproxy): skipping the HAProxy check");

    TestCluster cluster = clusters.start("haproxy", 3);
    String leader = cluster.awaitLeader(CLUSTER_READY_MAX);
    List<String> replicas = cluster.awaitStreamingReplicas(2, CLUSTER_READY_MAX);
    haproxy = Haproxy.start(binary.get(), cluster.baseDir().resolve("haproxy"),
        cluster.memberNames().stream().map(cluster::member).toList());
    try {
      checkPoolsAndSwitchover(cluster, leader, replicas);
    } catch (Exception | AssertionError e) {
      System.out.println("===== HAProxy pools: " + haproxy.poolsOrError());
      System.out.println("===== " + haproxy.logFile() + " =====\n" + LogFiles.tail(haproxy.logFile(), 80));
      throw e;
    }
  }

  private void checkPoolsAndSwitchover(TestCluster cluster, String leader, List<String> replicas) throws Exception {
    awaitPools(Set.of(leader), Set.copyOf(replicas), POOLS_SETTLED_MAX, "at start");

    // writes: the connection lands on the primary, and an INSERT commits there
    Map<String, Object> where = sqlThrough(haproxy.writePort(),
        "SELECT pg_is_in_recovery() AS in_recovery, inet_server_port() AS port");
    assertThat(where.get("in_recovery")).as("pg_is_in_recovery() through the write listener").isEqualTo(false);
    assertThat(where.get("port")).as("server port through the write listener (leader %s)", leader)
        .isEqualTo(cluster.member(leader).postgresPort());
    sqlThrough(haproxy.writePort(), "CREATE TABLE IF NOT EXISTS " + TABLE
        + " (id bigserial PRIMARY KEY, marker bigint NOT NULL, port int NOT NULL DEFAULT inet_server_port())");
    long marker = insertThrough(haproxy.writePort()).marker();
    assertThat(cluster.sql(leader, "SELECT 1 FROM " + TABLE + " WHERE marker = " + marker))
        .as("the row written through HAProxy is on %s", leader).hasSize(1);

    // reads: each new connection lands on a replica, round robin over both
    Set<Integer> replicaPorts = new TreeSet<>();
    replicas.forEach(r -> replicaPorts.add(cluster.member(r).postgresPort()));
    Set<Integer> readPorts = new TreeSet<>();
    for (int i = 0; i < READS; i++) {
      Map<String, Object> read = sqlThrough(haproxy.readPort(),
          "SELECT pg_is_in_recovery() AS in_recovery, inet_server_port() AS port");
      assertThat(read.get("in_recovery")).as("pg_is_in_recovery() through the read listener").isEqualTo(true);
      readPorts.add((Integer) read.get("port"));
    }
    assertThat(readPorts).as("servers reached through the read listener").isEqualTo(replicaPorts);

    // switchover over HTTP, as an operator's script does it
    String target = replicas.get(0);
    long requestedAt = System.nanoTime();
    HttpResponse<String> response = switchover(cluster.member(leader), leader, target);
    long respondedAt = System.nanoTime();
    System.out.printf("HaproxyIT: POST /switchover %s -> %s answered %d \"%s\" after %d ms%n", leader, target,
        response.statusCode(), response.body().trim(), millis(respondedAt - requestedAt));
    assertThat(response.statusCode()).as("POST /switchover status; body: %s", response.body()).isEqualTo(200);
    assertThat(response.body()).contains("Successfully switched over to \"" + target + "\"");

    int targetPort = cluster.member(target).postgresPort();
    long deadline = respondedAt + WRITES_FOLLOW_MAX.toNanos();
    Optional<Long> followedAt = Optional.empty();
    while (followedAt.isEmpty() && System.nanoTime() < deadline) {
      Optional<Write> write = tryInsertThrough(haproxy.writePort());
      if (write.isPresent() && write.get().port() == targetPort) {
        followedAt = Optional.of(System.nanoTime());
      } else {
        TestCluster.sleep(POLL_INTERVAL);
      }
    }
    assertThat(followedAt).as("a write through HAProxy reaches %s within %s of the switchover's answer", target,
        WRITES_FOLLOW_MAX).isPresent();
    System.out.printf("HaproxyIT: first write through HAProxy on %s %d ms after the request, %d ms after the answer%n",
        target, millis(followedAt.get() - requestedAt), millis(followedAt.get() - respondedAt));

    Set<String> stillReplicas = new HashSet<>(replicas);
    stillReplicas.remove(target);
    awaitWritePool(Set.of(target), WRITES_FOLLOW_MAX, "after the switchover");
    System.out.printf("HaproxyIT: write pool is {%s} (old primary %s out) %d ms after the answer%n", target, leader,
        millis(System.nanoTime() - respondedAt));

    // the old primary is out of the pool: every new connection writes on the new primary
    for (int i = 0; i < WRITES_AFTER_SWITCHOVER; i++) {
      Write write = insertThrough(haproxy.writePort());
      assertThat(write.port()).as("server of write %d through HAProxy after the switchover", i).isEqualTo(targetPort);
    }
    assertThat(sqlThrough(haproxy.writePort(), "SELECT pg_is_in_recovery() AS in_recovery").get("in_recovery"))
        .isEqualTo(false);
    assertThat(cluster.sql(target, "SELECT 1 FROM " + TABLE + " WHERE marker = " + marker))
        .as("the row written through HAProxy before the switchover is on %s", target).hasSize(1);

    // and once it streams from the new primary, the old primary serves reads
    cluster.awaitStreamingFrom(leader, target, OLD_LEADER_REJOINS_MAX);
    stillReplicas.add(leader);
    awaitPools(Set.of(target), stillReplicas, POOLS_SETTLED_MAX, "after the old primary rejoined");
  }

  // ------------------------------------------------------------------------------------------------ pools

  private void awaitPools(Set<String> writers, Set<String> readers, Duration timeout, String when) {
    Map<String, Set<String>> expected = Map.of(Haproxy.WRITE_PROXY, writers, Haproxy.READ_PROXY, readers);
    awaitCondition(() -> {
      Map<String, Set<String>> pools = haproxy.pools();
      return pools.get(Haproxy.WRITE_PROXY).equals(writers) && pools.get(Haproxy.READ_PROXY).equals(readers);
    }, timeout, () -> "HAProxy pools " + when + ": expected " + expected + ", have " + haproxy.poolsOrError());
  }

  private void awaitWritePool(Set<String> writers, Duration timeout, String when) {
    awaitCondition(() -> haproxy.pools().get(Haproxy.WRITE_PROXY).equals(writers), timeout,
        () -> "HAProxy write pool " + when + ": expected " + writers + ", have " + haproxy.poolsOrError());
  }

  private static void awaitCondition(Supplier<Boolean> condition, Duration timeout, Supplier<String> failure) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        if (condition.get()) {
          return;
        }
      } catch (RuntimeException e) {
        // stats not answering yet: retry until the deadline
      }
      if (System.nanoTime() >= deadline) {
        throw new AssertionError(failure.get() + " after " + timeout);
      }
      TestCluster.sleep(POLL_INTERVAL);
    }
  }

  // --------------------------------------------------------------------------------------------------- REST

  private HttpResponse<String> switchover(MemberConfig via, String leader, String candidate) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(via.restBase() + "/switchover"))
        .timeout(SWITCHOVER_REQUEST_MAX)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"leader\": \"" + leader + "\", \"candidate\": \"" + candidate + "\"}"))
        .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  // ---------------------------------------------------------------------------------------------------- SQL

  record Write(long marker, int port) {}

  /** One INSERT through {@code port} on a new connection; the server it landed on, from the row's default. */
  private Write insertThrough(int port) throws Exception {
    long marker = markers.incrementAndGet();
    Map<String, Object> row = sqlThrough(port, "INSERT INTO " + TABLE + " (marker) VALUES (" + marker
        + ") RETURNING port");
    return new Write(marker, (Integer) row.get("port"));
  }

  private Optional<Write> tryInsertThrough(int port) {
    try {
      return Optional.of(insertThrough(port));
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  /** One statement as the superuser on a new connection to 127.0.0.1:{@code port}; the first row (or empty map). */
  private Map<String, Object> sqlThrough(int port, String sql) throws Exception {
    PgConnectOptions options = new PgConnectOptions()
        .setHost("127.0.0.1")
        .setPort(port)
        .setUser(MemberConfig.SUPERUSER)
        .setPassword(MemberConfig.SUPERUSER_PASSWORD)
        .setDatabase("postgres")
        .setReconnectAttempts(0)
        .setProperties(Map.of(
            "application_name", "pgha-it-haproxy",
            "statement_timeout", Long.toString(SQL_TIMEOUT.toMillis())));
    Future<PgConnection> connecting = PgConnection.connect(vertx, options);
    PgConnection connection;
    try {
      connection = connecting.toCompletionStage().toCompletableFuture()
          .get(SQL_CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      connecting.onSuccess(PgConnection::close);
      throw e;
    }
    try {
      RowSet<Row> rows = connection.query(sql).execute().toCompletionStage().toCompletableFuture()
          .get(SQL_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
      Map<String, Object> first = new LinkedHashMap<>();
      for (Row row : rows) {
        for (int i = 0; i < row.size(); i++) {
          first.put(row.getColumnName(i), row.getValue(i));
        }
        break;
      }
      return first;
    } finally {
      connection.close();
    }
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  // ------------------------------------------------------------------------------------------------ HAProxy

  /**
   * {@code haproxy -f <cfg> -db} as a child of this JVM (HAProxy may run as root), with Patroni's reference
   * configuration on free 127.0.0.1 ports, and a stats listener whose CSV tells which servers are in each pool.
   */
  static final class Haproxy implements AutoCloseable {
    static final String WRITE_PROXY = "primary";
    static final String READ_PROXY = "replicas";

    private static final Duration START_MAX = Duration.ofSeconds(10);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final List<String> SEARCH_DIRS = List.of("/usr/sbin", "/usr/local/sbin", "/sbin");

    private final Process process;
    private final Path logFile;
    private final int writePort;
    private final int readPort;
    private final int statsPort;
    private final Thread killOnExit;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private Haproxy(Process process, Path logFile, int writePort, int readPort, int statsPort) {
      this.process = process;
      this.logFile = logFile;
      this.writePort = writePort;
      this.readPort = readPort;
      this.statsPort = statsPort;
      this.killOnExit = new Thread(process::destroyForcibly, "haproxy-kill-on-exit");
      Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /** The haproxy executable on PATH or in the sbin directories (PATH may lack them when not root). */
    static Optional<Path> binary() {
      List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
      dirs.addAll(SEARCH_DIRS);
      return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, "haproxy")).filter(Files::isExecutable)
          .findFirst();
    }

    /** Writes the configuration into {@code dir}, checks it with {@code haproxy -c}, starts HAProxy, waits for it. */
    static Haproxy start(Path binary, Path dir, List<MemberConfig> members) throws IOException, InterruptedException {
      Files.createDirectories(dir);
      int writePort = FreePorts.next();
      int readPort = FreePorts.next();
      int statsPort = FreePorts.next();
      Path config = dir.resolve("haproxy.cfg");
      Files.writeString(config, config(members, writePort, readPort, statsPort), StandardCharsets.UTF_8);
      Path logFile = dir.resolve("haproxy.log");

      Path checkLog = dir.resolve("haproxy-check.log");
      Process check = new ProcessBuilder(binary.toString(), "-c", "-f", config.toString())
          .redirectErrorStream(true)
          .redirectOutput(checkLog.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .start();
      if (!check.waitFor(10, TimeUnit.SECONDS)) {
        check.destroyForcibly();
        throw new IllegalStateException("haproxy -c did not finish within 10 s");
      }
      if (check.exitValue() != 0) {
        throw new IllegalStateException("haproxy rejects " + config + ":\n" + LogFiles.tail(checkLog, 40));
      }

      Process process = new ProcessBuilder(binary.toString(), "-f", config.toString(), "-db")
          .directory(dir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .start();
      Haproxy haproxy = new Haproxy(process, logFile, writePort, readPort, statsPort);
      long deadline = System.nanoTime() + START_MAX.toNanos();
      while (true) {
        try {
          haproxy.pools();
          return haproxy;
        } catch (RuntimeException e) {
          if (!process.isAlive() || System.nanoTime() >= deadline) {
            haproxy.close();
            throw new IllegalStateException("haproxy " + (process.isAlive() ? "serves no stats after " + START_MAX
                : "exited with " + process.exitValue()) + ":\n" + LogFiles.tail(logFile, 40), e);
          }
          TestCluster.sleep(POLL_INTERVAL);
        }
      }
    }

    /**
     * Patroni's reference {@code haproxy.cfg} (docs and {@code haproxy.cfg} in its repository), with a read
     * listener beside the write one and faster checks: {@code inter 1s fall 2 rise 1}.
     */
    static String config(List<MemberConfig> members, int writePort, int readPort, int statsPort) {
      StringBuilder cfg = new StringBuilder();
      cfg.append("""
          global
              maxconn 200

          defaults
              mode tcp
              retries 2
              timeout client 30m
              timeout connect 4s
              timeout server 30m
              timeout check 5s

          listen stats
              mode http
              bind 127.0.0.1:%d
              stats enable
              stats uri /
              stats refresh 1s

          """.formatted(statsPort));
      listener(cfg, WRITE_PROXY, writePort, "/primary", members);
      cfg.append('\n');
      listener(cfg, READ_PROXY, readPort, "/replica", members);
      return cfg.toString();
    }

    private static void listener(StringBuilder cfg, String name, int port, String check, List<MemberConfig> members) {
      cfg.append("listen ").append(name).append('\n')
          .append("    bind 127.0.0.1:").append(port).append('\n')
          .append("    balance roundrobin\n")
          .append("    option httpchk GET ").append(check).append('\n')
          .append("    http-check expect status 200\n")
          .append("    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions\n");
      for (MemberConfig member : members) {
        cfg.append("    server ").append(member.name()).append(" 127.0.0.1:").append(member.postgresPort())
            .append(" maxconn 100 check port ").append(member.restPort()).append('\n');
      }
    }

    int writePort() {
      return writePort;
    }

    int readPort() {
      return readPort;
    }

    Path logFile() {
      return logFile;
    }

    /**
     * The servers HAProxy currently sends connections to, per listener (status {@code UP}, including
     * {@code UP 1/2} while going down), from the stats page's CSV. Throws when the stats do not answer.
     */
    Map<String, Set<String>> pools() {
      Map<String, Set<String>> pools = new LinkedHashMap<>();
      pools.put(WRITE_PROXY, new TreeSet<>());
      pools.put(READ_PROXY, new TreeSet<>());
      for (ServerStatus server : statuses()) {
        if (server.status().startsWith("UP")) {
          pools.get(server.proxy()).add(server.server());
        }
      }
      return pools;
    }

    /** Every server's status and last check per listener, for failure messages. */
    String poolsOrError() {
      try {
        StringBuilder out = new StringBuilder();
        statuses().forEach(s -> out.append(s.proxy()).append('/').append(s.server()).append('=').append(s.status())
            .append(" (").append(s.lastCheck()).append("); "));
        return out.toString();
      } catch (RuntimeException e) {
        return "(stats unavailable: " + e.getMessage() + ")";
      }
    }

    record ServerStatus(String proxy, String server, String status, String lastCheck) {}

    /** The servers of both listeners as the stats page's CSV lists them ({@code pxname,svname,...,status,...}). */
    List<ServerStatus> statuses() {
      String csv;
      try {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + "/;csv"))
            .timeout(Duration.ofSeconds(2)).GET().build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          throw new IllegalStateException("HAProxy stats answered " + response.statusCode());
        }
        csv = response.body();
      } catch (IOException e) {
        throw new IllegalStateException("HAProxy stats do not answer: " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      String[] lines = csv.split("\n");
      List<String> header = List.of(lines[0].replaceFirst("^# ", "").split(",", -1));
      int proxy = header.indexOf("pxname");
      int server = header.indexOf("svname");
      int status = header.indexOf("status");
      int lastCheck = header.indexOf("last_chk");
      if (proxy < 0 || server < 0 || status < 0 || lastCheck < 0) {
        throw new IllegalStateException("unexpected HAProxy stats header: " + lines[0]);
      }
      List<ServerStatus> servers = new ArrayList<>();
      for (int i = 1; i < lines.length; i++) {
        String[] fields = lines[i].split(",", -1);
        if (fields.length > Math.max(status, lastCheck)
            && (fields[proxy].equals(WRITE_PROXY) || fields[proxy].equals(READ_PROXY))
            && !fields[server].equals("FRONTEND") && !fields[server].equals("BACKEND")) {
          servers.add(new ServerStatus(fields[proxy], fields[server], fields[status], fields[lastCheck]));
        }
      }
      return servers;
    }

    /** SIGTERM (HAProxy stops at once), SIGKILL if it is still there after a few seconds. */
    @Override
    public void close() {
      try {
        if (process.isAlive()) {
          process.destroy();
          if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
          }
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
          // the JVM is already shutting down: the hook runs anyway
        }
      }
    }
  }
}
