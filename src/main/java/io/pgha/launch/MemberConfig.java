package io.pgha.launch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Patroni-format YAML of one member of a local cluster (demo and integration tests): everything on 127.0.0.1,
 * data, socket and pgpass inside the member's own directory, so several clusters can share one machine.
 *
 * @param dir the member's directory; the data dir, pgpass and socket live below it, config and log beside it
 * @param binDir PostgreSQL binaries, or null to let the agent search
 */
public record MemberConfig(
    String scope,
    String name,
    String zookeeperHosts,
    int restPort,
    int postgresPort,
    Path dir,
    Path binDir,
    Timing timing) {

  public static final String SUPERUSER = "postgres";
  public static final String SUPERUSER_PASSWORD = "postgres-pass";
  public static final String REPLICATION_USER = "replicator";
  public static final String REPLICATION_PASSWORD = "rep-pass";
  public static final String NAMESPACE = "/service/";

  /**
   * Cluster-wide timing written to {@code bootstrap.dcs}; Patroni requires {@code loopWait + 2 * retryTimeout <= ttl}.
   */
  public record Timing(int ttlSeconds, int loopWaitSeconds, int retryTimeoutSeconds) {
    /** What the demo and the tests use: a dead leader is replaced within about ten seconds. */
    public static final Timing FAST = new Timing(10, 2, 3);

    public Timing {
      if (loopWaitSeconds + 2 * retryTimeoutSeconds > ttlSeconds) {
        throw new IllegalArgumentException("loop_wait + 2*retry_timeout must not exceed ttl");
      }
    }
  }

  public Path dataDir() {
    return dir.resolve("data");
  }

  /** {@code <base>/<name>.yml}, beside the member's directory, so {@code pghactl -c <base>/pg0.yml} is short. */
  public Path configFile() {
    return dir.resolveSibling(name + ".yml");
  }

  /** {@code <base>/<name>.log}: the agent's stdout and stderr (and postgres's, unless the agent redirects it). */
  public Path logFile() {
    return dir.resolveSibling(name + ".log");
  }

  public Path pgpass() {
    return dir.resolve("pgpass");
  }

  /** Unix socket directory: the default /var/run/postgresql may be missing or not writable. */
  public Path socketDir() {
    return dir;
  }

  /** {@code http://127.0.0.1:<rest port>}, to which REST paths such as {@code /patroni} are appended. */
  public String restBase() {
    return "http://127.0.0.1:" + restPort;
  }

  /** A libpq DSN for the superuser over TCP. */
  public String dsn() {
    return "host=127.0.0.1 port=" + postgresPort + " user=" + SUPERUSER + " password=" + SUPERUSER_PASSWORD
        + " dbname=postgres";
  }

  /** ZooKeeper base path of the cluster. */
  public String basePath() {
    return NAMESPACE + scope;
  }

  public String toYaml() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("scope", scope);
    root.put("namespace", NAMESPACE);
    root.put("name", name);
    root.put("restapi", Map.of(
        "listen", "127.0.0.1:" + restPort,
        "connect_address", "127.0.0.1:" + restPort));
    root.put("zookeeper", Map.of("hosts", List.of(zookeeperHosts.split(","))));
    root.put("bootstrap", bootstrap());
    root.put("postgresql", postgresql());
    root.put("tags", Map.of(
        "nofailover", false,
        "noloadbalance", false,
        "clonefrom", false,
        "nosync", false));
    try {
      return new ObjectMapper(new YAMLFactory()
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
          .writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write YAML for " + name, e);
    }
  }

  private Map<String, Object> bootstrap() {
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("wal_level", "replica");
    parameters.put("hot_standby", "on");
    parameters.put("max_wal_senders", 10);
    parameters.put("max_replication_slots", 10);
    parameters.put("wal_keep_size", "128MB");
    parameters.put("wal_log_hints", "on");
    Map<String, Object> dcs = new LinkedHashMap<>();
    dcs.put("ttl", timing.ttlSeconds());
    dcs.put("loop_wait", timing.loopWaitSeconds());
    dcs.put("retry_timeout", timing.retryTimeoutSeconds());
    dcs.put("maximum_lag_on_failover", 1_048_576);
    dcs.put("postgresql", Map.of(
        "use_pg_rewind", true,
        "use_slots", true,
        "parameters", parameters));
    Map<String, Object> bootstrap = new LinkedHashMap<>();
    bootstrap.put("dcs", dcs);
    bootstrap.put("initdb", List.of(Map.of("encoding", "UTF8"), "data-checksums"));
    return bootstrap;
  }

  private Map<String, Object> postgresql() {
    Map<String, Object> pg = new LinkedHashMap<>();
    pg.put("listen", "127.0.0.1:" + postgresPort);
    pg.put("connect_address", "127.0.0.1:" + postgresPort);
    pg.put("data_dir", dataDir().toString());
    if (binDir != null) {
      pg.put("bin_dir", binDir.toString());
    }
    pg.put("pgpass", pgpass().toString());
    pg.put("authentication", Map.of(
        "superuser", Map.of("username", SUPERUSER, "password", SUPERUSER_PASSWORD),
        "replication", Map.of("username", REPLICATION_USER, "password", REPLICATION_PASSWORD)));
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("unix_socket_directories", socketDir().toString());
    // a short checkpoint interval keeps pg_rewind and restarts quick in tests
    parameters.put("checkpoint_timeout", "30s");
    pg.put("parameters", parameters);
    pg.put("pg_hba", List.of(
        "local all all trust",
        "host replication " + REPLICATION_USER + " 127.0.0.1/32 md5",
        "host all all 127.0.0.1/32 md5"));
    return pg;
  }
}
