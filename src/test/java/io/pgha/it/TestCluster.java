package io.pgha.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.cli.ClusterTable;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.AgentProcess;
import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.LogFiles;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.ZooKeeperProcess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * A real cluster for integration tests: a ZooKeeper server in its own process and N agents ({@code pgha.jar}, or
 * {@code $PGHA_AGENT_CMD}) with Patroni-format configs, all on free 127.0.0.1 ports, under a fresh directory in /tmp
 * owned by the unprivileged user. Observes only through the contract every Patroni-compatible agent keeps: the
 * ZooKeeper layout, {@code GET /patroni}, PostgreSQL itself, and the agent's reaction to SIGTERM/SIGKILL.
 *
 * <p>Closing stops every process it started, including postmasters the agents left behind.
 */
public final class TestCluster implements AutoCloseable {

  /** ttl 10 / loop_wait 2 / retry_timeout 3, as in the demo. */
  public static final MemberConfig.Timing TIMING = MemberConfig.Timing.FAST;

  private static final Duration ZOOKEEPER_START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration SQL_CONNECT_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration SQL_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
  private static final String WRITES_TABLE = "pgha_it_writes";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final Path baseDir;
  private final ZooKeeperProcess zookeeper;
  private final LocalCluster cluster;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final AtomicLong writeSequence = new AtomicLong();

  /** False for a cluster started {@link #alongside} another: that one's ZooKeeper is not ours to stop. */
  private final boolean ownsZooKeeper;

  private TestCluster(Path baseDir, ZooKeeperProcess zookeeper, LocalCluster cluster) {
    this(baseDir, zookeeper, cluster, true);
  }

  private TestCluster(Path baseDir, ZooKeeperProcess zookeeper, LocalCluster cluster, boolean ownsZooKeeper) {
    this.baseDir = baseDir;
    this.zookeeper = zookeeper;
    this.cluster = cluster;
    this.ownsZooKeeper = ownsZooKeeper;
  }

  /**
   * A second cluster under another {@code scope} on this cluster's ZooKeeper (a standby cluster of this one, say):
   * members {@code <namePrefix>0..}, files in a directory of their own under this cluster's; its close leaves
   * ZooKeeper running.
   */
  public TestCluster alongside(String scope, String namePrefix, int size, BiConsumer<String, ObjectNode> configure)
      throws IOException {
    Path dir = baseDir.resolve(scope);
    LocalCluster other = LocalCluster.create(dir, jar(), scope, namePrefix, size, zookeeper.connectString(), TIMING);
    try {
      for (MemberConfig member : other.members()) {
        ObjectNode yaml = (ObjectNode) YAML.readTree(member.configFile().toFile());
        configure.accept(member.name(), yaml);
        YAML.writeValue(member.configFile().toFile(), yaml);
      }
      other.startAll(Map.of());
      return new TestCluster(dir, zookeeper, other, false);
    } catch (RuntimeException | Error e) {
      other.close();
      throw e;
    }
  }

  /** Starts ZooKeeper and {@code size} agents named {@code m0..}; does not wait for the cluster to form. */
  public static TestCluster start(String scope, int size) throws IOException {
    return start(scope, size, (name, yaml) -> { });
  }

  /**
   * Like {@link #start(String, int)}, but {@code configure} may change each member's YAML (as a tree: tags,
   * callbacks...) before its agent starts.
   */
  public static TestCluster start(String scope, int size, BiConsumer<String, ObjectNode> configure)
      throws IOException {
    Path jar = jar();
    Path baseDir = Files.createTempDirectory(Path.of(System.getProperty("pgha.it.tmp", "/tmp")), "pgha-it-" + scope + "-");
    ZooKeeperProcess zookeeper = null;
    LocalCluster cluster = null;
    try {
      zookeeper = ZooKeeperProcess.start(jar, FreePorts.next(), baseDir.resolve("zookeeper").resolve("data"),
          baseDir.resolve("zookeeper").resolve("zookeeper.log"));
      zookeeper.waitServing(ZOOKEEPER_START_TIMEOUT);
      cluster = LocalCluster.create(baseDir, jar, scope, "m", size, zookeeper.connectString(), TIMING);
      for (MemberConfig member : cluster.members()) {
        ObjectNode yaml = (ObjectNode) YAML.readTree(member.configFile().toFile());
        configure.accept(member.name(), yaml);
        YAML.writeValue(member.configFile().toFile(), yaml); // the file keeps its owner and mode
      }
      cluster.startAll(Map.of());
      return new TestCluster(baseDir, zookeeper, cluster);
    } catch (RuntimeException | Error e) {
      if (cluster != null) {
        cluster.close();
      }
      if (zookeeper != null) {
        zookeeper.close();
      }
      throw e;
    }
  }

  /** The jar under test, from the {@code pgha.jar} system property that failsafe sets. */
  static Path jar() {
    String property = System.getProperty("pgha.jar");
    if (property == null) {
      throw new IllegalStateException("system property pgha.jar is not set (run the ITs with mvn verify)");
    }
    Path jar = Path.of(property);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("pgha.jar " + jar + " does not exist (run mvn package first)");
    }
    return jar;
  }

  public Path baseDir() {
    return baseDir;
  }

  public List<String> memberNames() {
    return cluster.members().stream().map(MemberConfig::name).toList();
  }

  public MemberConfig member(String name) {
    return cluster.member(name);
  }

  public Optional<ClusterSnapshot> snapshot() {
    return cluster.snapshot();
  }

  /** The member table as pghactl prints it, or a note when ZooKeeper cannot be read. */
  public String table() {
    return snapshot().map(v -> ClusterTable.of(v, "cluster", false).render(ClusterTable.Format.PRETTY))
        .orElse("(ZooKeeper cannot be read)\n");
  }

  // ---------------------------------------------------------------------------------------------- waiting

  /**
   * Waits until a member holds the leader key and its member key says it is a running primary; returns its name.
   * Fails early when an agent exited by itself.
   */
  public String awaitLeader(Duration timeout) {
    return cluster.await(v -> v.leaderMember().map(ClusterSnapshot.Member::isRunningPrimary).orElse(false), timeout,
            true)
        .map(ClusterSnapshot::leader)
        .orElseThrow(() -> new AssertionError("no running primary holds the leader key after " + timeout + "\n"
            + table()));
  }

  /** Waits for a leader other than {@code previous}; returns its name. */
  public String awaitLeaderOtherThan(String previous, Duration timeout) {
    return cluster.await(v -> v.leader() != null && !v.leader().equals(previous)
                && v.leaderMember().map(ClusterSnapshot.Member::isRunningPrimary).orElse(false), timeout, false)
        .map(ClusterSnapshot::leader)
        .orElseThrow(() -> new AssertionError("no new leader (other than " + previous + ") after " + timeout + "\n"
            + table()));
  }

  /** The current leader key holder, if any. */
  public Optional<String> leader() {
    return snapshot().map(ClusterSnapshot::leader);
  }

  /**
   * Waits until {@code count} members are running replicas in ZooKeeper and each one's WAL receiver streams from
   * the current leader (checked in PostgreSQL itself: {@code pg_stat_wal_receiver}). Returns their names.
   */
  public List<String> awaitStreamingReplicas(int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> streaming = List.of();
    while (System.nanoTime() < deadline) {
      Optional<ClusterSnapshot> view = snapshot();
      if (view.isPresent() && view.get().leaderMember().isPresent()) {
        int leaderPort = member(view.get().leader()).postgresPort();
        streaming = view.get().members().stream()
            .filter(ClusterSnapshot.Member::isRunningReplica)
            .map(ClusterSnapshot.Member::name)
            .filter(name -> streamsFrom(name, leaderPort))
            .toList();
        if (streaming.size() >= count) {
          return streaming;
        }
      }
      sleep(POLL_INTERVAL);
    }
    throw new AssertionError("expected " + count + " streaming replicas after " + timeout + ", found " + streaming
        + "\n" + table());
  }

  /** Waits until {@code name} is a running replica streaming from {@code leader}. */
  public void awaitStreamingFrom(String name, String leader, Duration timeout) {
    int leaderPort = member(leader).postgresPort();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      boolean replicaInZooKeeper = snapshot().flatMap(v -> v.member(name))
          .map(ClusterSnapshot.Member::isRunningReplica).orElse(false);
      if (replicaInZooKeeper && streamsFrom(name, leaderPort)) {
        return;
      }
      sleep(POLL_INTERVAL);
    }
    throw new AssertionError(name + " does not stream from " + leader + " after " + timeout + "\n" + table());
  }

  /** Whether {@code name}'s WAL receiver streams from the postgres on {@code leaderPort} right now. */
  public boolean streamsFrom(String name, int leaderPort) {
    try {
      List<Map<String, Object>> rows = sql(name, "SELECT status, sender_port FROM pg_stat_wal_receiver");
      return rows.size() == 1 && "streaming".equals(rows.get(0).get("status"))
          && Integer.valueOf(leaderPort).equals(rows.get(0).get("sender_port"));
    } catch (Exception e) {
      return false;
    }
  }

  /** Polls {@link #tryWrite} on {@code name} until it succeeds; returns how long that took. */
  public Duration awaitWritable(String name, Duration timeout) {
    long started = System.nanoTime();
    long deadline = started + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (tryWrite(name)) {
        return Duration.ofNanos(System.nanoTime() - started);
      }
      sleep(POLL_INTERVAL);
    }
    throw new AssertionError(name + " accepts no writes after " + timeout + "\n" + table());
  }

  // -------------------------------------------------------------------------------------------------- SQL

  private volatile java.util.function.UnaryOperator<PgConnectOptions> sqlOptions = o -> o;

  /** Changes the test's own SQL connections (TLS with a client certificate when pg_hba allows only hostssl). */
  public void sqlOptions(java.util.function.UnaryOperator<PgConnectOptions> change) {
    sqlOptions = change;
  }

  /** Runs one statement as the superuser over TCP; rows as column name to value. Throws on any failure. */
  public List<Map<String, Object>> sql(String name, String sql) throws Exception {
    MemberConfig config = member(name);
    PgConnectOptions options = sqlOptions.apply(new PgConnectOptions())
        .setHost("127.0.0.1")
        .setPort(config.postgresPort())
        .setUser(MemberConfig.SUPERUSER)
        .setPassword(MemberConfig.SUPERUSER_PASSWORD)
        .setDatabase("postgres")
        .setReconnectAttempts(0)
        .setProperties(Map.of(
            "application_name", "pgha-it",
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
      return asMaps(connection.query(sql).execute().toCompletionStage().toCompletableFuture()
          .get(SQL_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS));
    } finally {
      connection.close();
    }
  }

  /** Each row as column name to value, in column order. */
  public static List<Map<String, Object>> asMaps(RowSet<Row> rows) {
    List<Map<String, Object>> result = new ArrayList<>();
    for (Row row : rows) {
      Map<String, Object> values = new LinkedHashMap<>();
      for (int i = 0; i < row.size(); i++) {
        values.put(row.getColumnName(i), row.getValue(i));
      }
      result.add(values);
    }
    return result;
  }

  /** Creates the table {@link #tryWrite} inserts into (on the leader; it replicates). */
  public void createWritesTable(String leader) throws Exception {
    sql(leader, "CREATE TABLE IF NOT EXISTS " + WRITES_TABLE
        + " (id bigserial PRIMARY KEY, member text NOT NULL, marker bigint NOT NULL, at timestamptz DEFAULT now())");
  }

  /** INSERTs one row on {@code name}; true if it committed, false on any error or timeout (read-only, down...). */
  public boolean tryWrite(String name) {
    return writeMarker(name).isPresent();
  }

  /** INSERTs one row on {@code name} and returns its unique marker, or empty when the write failed. */
  public OptionalLong writeMarker(String name) {
    long marker = System.currentTimeMillis() * 1000 + writeSequence.incrementAndGet() % 1000;
    try {
      sql(name, "INSERT INTO " + WRITES_TABLE + " (member, marker) VALUES ('" + name + "', " + marker + ")");
      return OptionalLong.of(marker);
    } catch (Exception e) {
      return OptionalLong.empty();
    }
  }

  /** Whether the row with {@code marker} is visible on {@code name}. */
  public boolean hasMarker(String name, long marker) {
    try {
      return !sql(name, "SELECT 1 FROM " + WRITES_TABLE + " WHERE marker = " + marker).isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  /** Which of {@code markers} are not visible on {@code name}. Throws when it cannot be read. */
  public List<Long> missingMarkers(String name, List<Long> markers) throws Exception {
    if (markers.isEmpty()) {
      return List.of();
    }
    String in = markers.stream().map(String::valueOf).collect(Collectors.joining(","));
    Set<Object> present = new HashSet<>();
    sql(name, "SELECT marker FROM " + WRITES_TABLE + " WHERE marker IN (" + in + ")")
        .forEach(row -> present.add(row.get("marker")));
    return markers.stream().filter(m -> !present.contains(m)).toList();
  }

  // ------------------------------------------------------------------------------------------------- REST

  /** {@code GET /patroni} of {@code name} as JSON (any status code), or empty when the API does not answer. */
  public Optional<JsonNode> patroniStatus(String name) {
    try {
      HttpRequest request = HttpRequest.newBuilder(URI.create(member(name).restBase() + "/patroni"))
          .timeout(Duration.ofSeconds(3)).GET().build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return Optional.of(JSON.readTree(response.body()));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** An HTTP answer: status code and body. */
  public record Answer(int status, String body) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }
  }

  /** {@code method path} on {@code name}'s REST API with a JSON body (or none); status 0 when it does not answer. */
  public Answer request(String name, String method, String path, String body) {
    HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body);
    try {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(member(name).restBase() + path))
          .timeout(Duration.ofSeconds(40)).header("Content-Type", "application/json").method(method, publisher).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      return new Answer(0, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(0, "interrupted");
    }
  }

  /** The JSON of {@code members/<name>}, if the key exists. */
  public Optional<JsonNode> memberKey(String name) {
    return snapshot().flatMap(v -> v.member(name)).map(ClusterSnapshot.Member::data);
  }

  /** Polls until {@code condition} holds; fails with {@code what} and the member table after {@code timeout}. */
  public void await(String what, Duration timeout, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not reached after " + timeout + "\n" + table());
      }
      sleep(POLL_INTERVAL);
    }
  }

  /** {@code POST path} with a JSON body on {@code name}'s REST API. */
  public HttpResponse<String> post(String name, String path, String json, Duration timeout) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(member(name).restBase() + path)).timeout(timeout)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  // -------------------------------------------------------------------------------------------- processes

  public AgentProcess agent(String name) {
    return cluster.agent(name).orElseThrow(() -> new IllegalStateException("agent " + name + " was never started"));
  }

  /** SIGKILL to the agent only: its postgres keeps running. */
  public void killAgent(String name) {
    AgentProcess agent = agent(name);
    agent.sigkill();
    agent.waitFor(Duration.ofSeconds(5));
  }

  /** SIGTERM to the agent; does not wait. */
  public void sigtermAgent(String name) {
    agent(name).sigterm();
  }

  /** Starts the agent of {@code name} again (after it was killed or stopped). */
  public void restartAgent(String name) {
    AgentProcess agent = agent(name);
    if (agent.isAlive()) {
      agent.stop(Duration.ofSeconds(30));
    }
    cluster.startAgent(name, Map.of());
  }

  /** The postmaster pid from {@code <data_dir>/postmaster.pid}, if the file exists. */
  public OptionalLong postmasterPid(String name) {
    return cluster.postmasterPid(name);
  }

  /** SIGKILL to the postmaster of {@code name}; returns its pid. */
  public long killPostmaster(String name) {
    ProcessHandle postmaster = cluster.postmaster(name)
        .orElseThrow(() -> new AssertionError("no running postmaster for " + name));
    LocalCluster.signal(postmaster.pid(), "KILL");
    return postmaster.pid();
  }

  public ZooKeeperProcess zookeeper() {
    return zookeeper;
  }

  /** SIGTERM to ZooKeeper; returns once it has exited. */
  public void stopZooKeeper() {
    zookeeper.stop();
  }

  /** Starts ZooKeeper again on the same port and data, and waits until it serves. */
  public void startZooKeeper() {
    zookeeper.restart();
    zookeeper.waitServing(ZOOKEEPER_START_TIMEOUT);
  }

  /** Every member's and ZooKeeper's log tail, for failure reports. */
  public String logTails(int lines) {
    return cluster.logTails(lines) + "===== " + zookeeper.logFile() + " =====\n"
        + LogFiles.tail(zookeeper.logFile(), lines) + "\n";
  }

  /** Stops agents (SIGTERM, then SIGKILL), leftover postmasters, then ZooKeeper. Keeps the files. */
  @Override
  public void close() {
    try {
      cluster.close();
    } finally {
      if (ownsZooKeeper) zookeeper.close();
      vertx.close();
    }
  }

  /** Deletes the cluster's directory (after a passing test; a failing one keeps it for inspection). */
  public void deleteFiles() {
    LocalCluster.deleteRecursively(baseDir);
  }

  static void sleep(Duration duration) {
    LocalCluster.sleep(duration);
  }
}
