package io.pgha.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.it.TestCluster;
import io.pgha.launch.AgentProcess;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.RunAs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The cluster under test: a three-server ZooKeeper ensemble (ZooKeeper's default tickTime) and three members, each
 * agent (pgha, or Debian's Patroni for the reference column) reaching ZooKeeper on a loopback address of its own,
 * ttl 10 / loop_wait 2 / retry_timeout 3, use_pg_rewind on, synchronous_mode as asked. The observer (leader key,
 * member keys) reads ZooKeeper on 127.0.0.1 so a member's partition does not blind it.
 */
final class FaultCluster implements AutoCloseable {

  enum Agent {
    PGHA("pgha"), PATRONI("patroni");

    final String label;

    Agent(String label) {
      this.label = label;
    }
  }

  static final Path PATRONI = Path.of("/usr/bin/patroni");
  static final MemberConfig.Timing TIMING = MemberConfig.Timing.FAST;
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration SQL_CONNECT_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration SQL_TIMEOUT = Duration.ofSeconds(2);

  final Agent agent;
  final boolean sync;
  private final Path jar;
  private final Path dir;
  private final ZkEnsemble ensemble;
  private final LocalCluster cluster;
  private final Vertx vertx;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private final Map<String, AgentProcess> agents = new LinkedHashMap<>();
  private final Runnable cleanUp = this::close;
  private boolean closed;

  private FaultCluster(Agent agent, boolean sync, Path jar, Path dir, ZkEnsemble ensemble, LocalCluster cluster,
      Vertx vertx) {
    this.agent = agent;
    this.sync = sync;
    this.jar = jar;
    this.dir = dir;
    this.ensemble = ensemble;
    this.cluster = cluster;
    this.vertx = vertx;
  }

  /** Starts the ensemble and the three agents; returns at once (wait with {@link Checks#awaitHealthy}). */
  static FaultCluster start(Agent agent, boolean sync, Path jar, Path dir, Vertx vertx) {
    return start(agent, sync, false, jar, dir, vertx);
  }

  /** @param failsafe {@code failsafe_mode: true} in the dynamic configuration (§10.2) */
  static FaultCluster start(Agent agent, boolean sync, boolean failsafe, Path jar, Path dir, Vertx vertx) {
    ZkEnsemble ensemble = ZkEnsemble.start(jar, dir.resolve("zookeeper"), Duration.ofSeconds(60));
    LocalCluster cluster = null;
    try {
      String prefix = agent == Agent.PGHA ? "pg" : "pt";
      cluster = LocalCluster.create(dir.resolve("members"), jar, "faults-" + agent.label, prefix, 3,
          ensemble.connectString("127.0.0.1"), TIMING);
      List<MemberConfig> members = cluster.members();
      for (int i = 0; i < members.size(); i++) {
        MemberConfig member = members.get(i);
        ObjectNode yaml = (ObjectNode) YAML.readTree(member.configFile().toFile());
        ArrayNode hosts = ((ObjectNode) yaml.get("zookeeper")).putArray("hosts");
        for (int port : ensemble.clientPorts()) {
          hosts.add(zooKeeperAddress(i) + ":" + port);
        }
        if (sync) {
          ((ObjectNode) yaml.get("bootstrap").get("dcs")).put("synchronous_mode", true);
        }
        if (failsafe) {
          ((ObjectNode) yaml.get("bootstrap").get("dcs")).put("failsafe_mode", true);
        }
        YAML.writeValue(member.configFile().toFile(), yaml); // keeps owner and mode
      }
      FaultCluster faultCluster = new FaultCluster(agent, sync, jar, dir, ensemble, cluster, vertx);
      Processes.onCleanUp(faultCluster.cleanUp);
      for (MemberConfig member : members) {
        faultCluster.startAgent(member.name());
      }
      return faultCluster;
    } catch (IOException e) {
      if (cluster != null) {
        cluster.close();
      }
      ensemble.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      if (cluster != null) {
        cluster.close();
      }
      ensemble.close();
      throw e;
    }
  }

  /** Member {@code index}'s own way to ZooKeeper: 127.0.1.{index+1}. */
  static String zooKeeperAddress(int index) {
    return "127.0.1." + (index + 1);
  }

  String zooKeeperAddress(String member) {
    return zooKeeperAddress(names().indexOf(member));
  }

  ZkEnsemble ensemble() {
    return ensemble;
  }

  List<MemberConfig> members() {
    return cluster.members();
  }

  List<String> names() {
    return cluster.members().stream().map(MemberConfig::name).toList();
  }

  MemberConfig member(String name) {
    return cluster.member(name);
  }

  // ------------------------------------------------------------------------------------------- processes

  AgentProcess startAgent(String name) {
    AgentProcess process;
    if (agent == Agent.PGHA) {
      process = cluster.startAgent(name, Map.of());
    } else {
      MemberConfig member = member(name);
      process = AgentProcess.start(List.of(PATRONI.toString(), member.configFile().toString()),
          member.configFile(), member.logFile(), Map.of());
    }
    agents.put(name, process);
    return process;
  }

  AgentProcess agentProcess(String name) {
    return agents.get(name);
  }

  /** SIGKILL of the agent alone; its postgres keeps running. */
  void killAgent(String name) {
    AgentProcess process = agents.get(name);
    Processes.thaw(process.pid());
    process.sigkill();
    process.waitFor(Duration.ofSeconds(5));
  }

  /** The whole node dies: the agent, the postmaster and every backend, SIGKILLed together. */
  void killNode(String name) {
    Optional<ProcessHandle> postmaster = cluster.postmaster(name);
    List<ProcessHandle> backends = postmaster.map(p -> p.descendants().toList()).orElse(List.of());
    killAgent(name);
    postmaster.ifPresent(p -> LocalCluster.signal(p.pid(), "KILL"));
    backends.forEach(b -> LocalCluster.signal(b.pid(), "KILL"));
    postmaster.ifPresent(p -> p.onExit().orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> p).join());
  }

  OptionalLong postmasterPid(String name) {
    return cluster.postmaster(name).map(p -> OptionalLong.of(p.pid())).orElse(OptionalLong.empty());
  }

  /** Agents that exited although the suite did not signal them. */
  List<String> agentsExitedByThemselves() {
    return agents.entrySet().stream().filter(e -> e.getValue().exitedByItself()).map(Map.Entry::getKey).toList();
  }

  Optional<ClusterSnapshot> snapshot() {
    return cluster.snapshot();
  }

  /** One key's text under the cluster's base path, read on 127.0.0.1; empty when absent or unreadable. */
  Optional<String> key(String name) {
    return cluster.key(name);
  }

  // ------------------------------------------------------------------------------------------------- SQL

  /** One statement on {@code name}'s postgres over TCP; rows as column to value. Throws on any failure. */
  List<Map<String, Object>> sql(String name, String query) throws Exception {
    PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(member(name).postgresPort())
        .setUser(MemberConfig.SUPERUSER).setPassword(MemberConfig.SUPERUSER_PASSWORD).setDatabase("postgres")
        .setReconnectAttempts(0)
        .setProperties(Map.of("application_name", "pgha-faults-check",
            "statement_timeout", Long.toString(SQL_TIMEOUT.toMillis())));
    Future<PgConnection> connecting = PgConnection.connect(vertx, options);
    PgConnection connection;
    try {
      connection = connecting.toCompletionStage().toCompletableFuture()
          .get(SQL_CONNECT_TIMEOUT.toMillis() + 300, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      connecting.onSuccess(PgConnection::close);
      throw e;
    }
    connection.exceptionHandler(e -> { });
    try {
      return TestCluster.asMaps(connection.query(query).execute().toCompletionStage().toCompletableFuture()
          .get(SQL_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS));
    } finally {
      connection.close();
    }
  }

  // ------------------------------------------------------------------------------------------------ REST

  /** {@code GET path} on {@code name}'s REST API: status and body, or empty when it does not answer in 1 s. */
  Optional<HttpResponse<String>> get(String name, String path) {
    try {
      HttpRequest request = HttpRequest.newBuilder(URI.create(member(name).restBase() + path))
          .timeout(Duration.ofSeconds(1)).GET().build();
      return Optional.of(http.send(request, HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  Optional<JsonNode> patroni(String name) {
    return get(name, "/patroni").flatMap(r -> {
      try {
        return Optional.of(JSON.readTree(r.body()));
      } catch (IOException e) {
        return Optional.empty();
      }
    });
  }

  /** {@code POST /switchover} on the leader's API; the status code, or 0 when it did not answer. */
  int switchover(String leader, String candidate, Duration timeout) {
    String body = "{\"leader\":\"" + leader + "\",\"candidate\":\"" + candidate + "\"}";
    try {
      HttpRequest request = HttpRequest.newBuilder(URI.create(member(leader).restBase() + "/switchover"))
          .timeout(timeout).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build();
      return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  /**
   * {@code pghactl list -f json} run as a user would (its own JVM, member 0's config), or empty when it fails.
   * Works for both agents: pghactl reads the same ZooKeeper layout.
   */
  Optional<JsonNode> pghactlList() {
    List<String> command = List.of(RunAs.javaBinary(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp",
        jar.toString(), "io.pgha.cli.Ctl", "-c", members().get(0).configFile().toString(), "list", "-f", "json");
    try {
      Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      byte[] out = process.getInputStream().readAllBytes();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return Optional.empty();
      }
      return process.exitValue() == 0 ? Optional.of(JSON.readTree(new String(out, StandardCharsets.UTF_8)))
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  String logTails(int lines) {
    return cluster.logTails(lines);
  }

  /** Stops the agents (resuming any frozen one first), leftover postmasters, then the ensemble. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    Processes.done(cleanUp);
    agents.values().forEach(a -> Processes.thaw(a.pid()));
    try {
      agents.values().stream().filter(AgentProcess::isAlive).forEach(AgentProcess::sigterm);
      for (AgentProcess process : agents.values()) {
        if (!process.waitFor(Duration.ofSeconds(30))) {
          process.sigkill();
          process.waitFor(Duration.ofSeconds(5));
        }
      }
      cluster.close();
    } finally {
      ensemble.close();
    }
  }
}
