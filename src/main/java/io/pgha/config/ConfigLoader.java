package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the local configuration: a Patroni-format YAML file (or a directory of them), with {@code PATRONI_*}
 * environment variables deep-merged over it, validated and turned into a {@link PghaConfig} (patroni-compat §8).
 *
 * <p>A file that Patroni 3.x runs with loads unchanged: unknown keys ({@code log}, {@code watchdog}, {@code ctl},
 * {@code citus}, ...) are kept in {@link PghaConfig#raw()} and otherwise ignored. Where Patroni would start and fail
 * later (a missing {@code data_dir}, an unusable port, timings that break the lock), loading fails at once with a
 * one-line {@link ConfigException} naming the key.
 *
 * <p>Here: reading the files, the top level, {@code restapi} and {@code zookeeper}; the {@code postgresql},
 * {@code bootstrap} and {@code tags} sections are validated by {@link PostgresqlSection}, {@link BootstrapSection}
 * and {@link TagsSection}; the {@code PATRONI_*} environment by {@link EnvironmentOverrides}.
 */
public final class ConfigLoader {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /**
   * GUCs that must be equal on every member, so they come from the dynamic configuration only; Patroni silently
   * drops them from the local {@code postgresql.parameters} (§8.6). Lower case; GUC names are case-insensitive.
   */
  public static final Set<String> PROTECTED_GUCS = Set.of("listen_addresses", "port", "cluster_name", "wal_level",
      "hot_standby", "max_connections", "max_wal_senders", "wal_keep_segments", "wal_keep_size",
      "max_prepared_transactions", "max_locks_per_transaction", "track_commit_timestamp", "max_replication_slots",
      "max_worker_processes", "wal_log_hints");

  /** The DCS sections Patroni knows besides {@code zookeeper}. */
  private static final List<String> OTHER_DCS = List.of("etcd", "etcd3", "consul", "kubernetes", "raft",
      "exhibitor");
  /** Timings that only the dynamic configuration may set; Patroni ignores them at the top level of the file. */
  private static final List<String> DYNAMIC_ONLY_TIMINGS = List.of("ttl", "loop_wait", "retry_timeout");
  private static final Set<String> VERIFY_CLIENT_MODES = Set.of("none", "optional", "required");

  private ConfigLoader() {}

  /** Finds the PostgreSQL binaries for a configured {@code postgresql.bin_dir} (null or blank when not set). */
  @FunctionalInterface
  public interface BinDirLookup {
    Path find(String configuredBinDir) throws ConfigException;
  }

  /**
   * Loads {@code path} (a file, or a directory whose {@code *.yml}/{@code *.yaml} files are deep-merged in name
   * order), applies the {@code PATRONI_*} variables of {@code env} over it and builds the configuration.
   */
  public static PghaConfig load(Path path, Map<String, String> env) throws ConfigException {
    return load(path, env, configured -> PostgresBinaries.find(configured, env == null ? Map.of() : env));
  }

  /** As {@link #load(Path, Map)}, with the PostgreSQL binaries found by {@code binaries} (tests, tools). */
  public static PghaConfig load(Path path, Map<String, String> env, BinDirLookup binaries) throws ConfigException {
    ObjectNode tree = readPath(path);
    deepMerge(tree, EnvironmentOverrides.from(env));
    if (tree.isEmpty()) throw new ConfigException(path + ": configuration is empty");
    return fromTree(tree, binaries);
  }

  /**
   * The unvalidated tree patronictl works from: {@code path} (when not null) with the {@code PATRONI_*} variables of
   * {@code env} merged over it. Nothing is required, so a file holding just {@code scope} and {@code zookeeper} does.
   */
  public static ObjectNode rawTree(Path path, Map<String, String> env) throws ConfigException {
    ObjectNode tree = path == null ? NODES.objectNode() : readPath(path);
    deepMerge(tree, EnvironmentOverrides.from(env));
    return tree;
  }

  /** Builds the configuration from an already merged tree; binaries are looked up with the process's PATH. */
  public static PghaConfig fromTree(ObjectNode tree) throws ConfigException {
    return fromTree(tree, configured -> PostgresBinaries.find(configured, System.getenv()));
  }

  /** Builds the configuration from an already merged tree, finding the binaries with {@code binaries}. */
  public static PghaConfig fromTree(ObjectNode tree, BinDirLookup binaries) throws ConfigException {
    ConfigNode root = ConfigNode.root(tree);
    String scope = root.get("scope").requiredText();
    String name = root.get("name").requiredText();
    String namespace = namespace(root.get("namespace"));
    ignoreLocalTimings(root);

    RestApiConfig restapi = restApi(root.section("restapi"));
    ConfigNode postgresql = root.section("postgresql");
    PostgresqlConfig postgresWithoutBinaries = PostgresqlSection.postgresql(postgresql);
    ZooKeeperConfig zookeeper = zookeeper(root);
    BootstrapConfig bootstrap = BootstrapSection.bootstrap(root);
    Tags tags = TagsSection.tags(root.section("tags"));

    // last, so that a machine without PostgreSQL still reports mistakes in the file first
    Path binDir = binaries.find(postgresql.get("bin_dir").text());
    PostgresqlConfig postgres = PostgresqlSection.withBinDir(postgresWithoutBinaries, binDir);
    return new PghaConfig(scope, namespace, name, restapi, zookeeper, bootstrap, postgres, tags, tree.deepCopy());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Files

  /** Reads a file, or deep-merges the YAML files of a directory in name order, as Patroni does. */
  static ObjectNode readPath(Path path) throws ConfigException {
    if (Files.isDirectory(path)) {
      List<Path> files;
      try (Stream<Path> entries = Files.list(path)) {
        files = entries
            .filter(f -> f.getFileName().toString().endsWith(".yml") || f.getFileName().toString().endsWith(".yaml"))
            .filter(Files::isRegularFile)
            .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
            .toList();
      } catch (IOException e) {
        throw new ConfigException(path + ": cannot read directory: " + e.getMessage());
      }
      if (files.isEmpty()) throw new ConfigException(path + ": no *.yml or *.yaml files in directory");
      ObjectNode merged = NODES.objectNode();
      for (Path file : files) deepMerge(merged, readFile(file));
      return merged;
    }
    ObjectNode merged = NODES.objectNode();
    deepMerge(merged, readFile(path));
    return merged;
  }

  private static ObjectNode readFile(Path file) throws ConfigException {
    JsonNode document;
    try {
      document = PatroniYaml.parse(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": no such file");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read: " + e.getMessage());
    } catch (PatroniYaml.InvalidYaml e) {
      String where = e.line > 0 ? " at line " + e.line + ", column " + e.column : "";
      throw new ConfigException(file + ": invalid YAML" + where + ": " + e.reason);
    }
    if (document.isMissingNode() || document.isNull()) return NODES.objectNode();
    if (!document.isObject()) {
      throw new ConfigException(
          file + ": must be a YAML mapping of settings, got " + ConfigNode.describe(document));
    }
    return (ObjectNode) document;
  }

  /**
   * Patroni's {@code patch_config}: mappings merge recursively, anything else replaces, and a null removes the key
   * (so {@code key:} with no value in a later file, or at the top level of the first, unsets it).
   */
  static void deepMerge(ObjectNode target, ObjectNode patch) {
    Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String key = field.getKey();
      JsonNode value = field.getValue();
      JsonNode existing = target.get(key);
      if (value.isNull()) {
        target.remove(key);
      } else if (value.isObject() && existing != null && existing.isObject()) {
        deepMerge((ObjectNode) existing, (ObjectNode) value);
      } else {
        target.set(key, value.deepCopy());
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Top level

  /** The namespace without leading, trailing or doubled slashes ({@code /service/} is {@code service}). */
  private static String namespace(ConfigNode node) throws ConfigException {
    String text = node.textOr("service");
    String collapsed = text.trim().replaceAll("/+", "/");
    int start = collapsed.startsWith("/") ? 1 : 0;
    int end = collapsed.endsWith("/") && collapsed.length() > start ? collapsed.length() - 1 : collapsed.length();
    return collapsed.substring(start, Math.max(start, end));
  }

  private static void ignoreLocalTimings(ConfigNode root) {
    for (String key : DYNAMIC_ONLY_TIMINGS) {
      if (root.get(key).isSet()) {
        LOG.info("ignoring top-level '{}': it is taken from the dynamic configuration only "
            + "(bootstrap.dcs, or patronictl edit-config once the cluster exists)", key);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // restapi

  private static RestApiConfig restApi(ConfigNode restapi) throws ConfigException {
    ConfigNode listenNode = restapi.get("listen");
    Listen listen = Listen.split(listenNode.requiredText());
    if (listen.port() == null) throw listenNode.error("missing port in '" + listenNode.text().trim() + "'");
    int port = port(listenNode, listen.port());
    String host = listen.hosts().isEmpty() || listen.hosts().equals("*") ? "0.0.0.0" : listen.hosts();

    ConfigNode connectNode = restapi.get("connect_address");
    String connectAddress = connectNode.requiredText();
    checkAddress(connectNode, connectAddress);

    ConfigNode authNode = restapi.section("authentication");
    Credentials authentication = null;
    if (authNode.isSet()) {
      authentication = new Credentials(authNode.get("username").requiredText(),
          authNode.get("password").requiredText());
    }

    ConfigNode verifyNode = restapi.get("verify_client");
    String verifyClient = verifyNode.text();
    if (verifyClient != null) {
      verifyClient = verifyClient.trim().toLowerCase(Locale.ROOT);
      if (!VERIFY_CLIENT_MODES.contains(verifyClient)) {
        throw verifyNode.error("must be none, optional or required, got " + verifyNode.describe());
      }
    }

    return new RestApiConfig(host, port, connectAddress, authentication,
        restapi.get("certfile").text(),
        restapi.get("keyfile").text(),
        restapi.get("keyfile_password").text(),
        restapi.get("cafile").text(),
        verifyClient,
        List.copyOf(commaList(restapi.get("allowlist"))),
        restapi.get("allowlist_include_members").boolOr(false));
  }

  /**
   * A {@code listen} value split like Patroni's {@code split_host_port}: the port follows the last colon, and
   * brackets are removed from IPv6 hosts ({@code [::1]:8008}, {@code 127.0.0.1,[::1]:5432}).
   *
   * @param port the port text, or null when the value has none
   */
  record Listen(String hosts, String port) {
    static Listen split(String text) {
      String value = text.trim();
      int colon = value.lastIndexOf(':');
      String hosts = value;
      String port = null;
      if (colon >= 0 && !value.endsWith("]")) {
        hosts = value.substring(0, colon);
        port = value.substring(colon + 1).trim();
      }
      if (hosts.contains(":")) {
        List<String> unbracketed = new ArrayList<>();
        for (String host : hosts.split(",")) unbracketed.add(host.trim().replaceAll("^\\[|]$", ""));
        hosts = String.join(",", unbracketed);
      }
      return new Listen(hosts.trim(), port);
    }
  }

  static int port(ConfigNode key, String text) throws ConfigException {
    try {
      int port = Integer.parseInt(text.trim());
      if (port >= 1 && port <= 65535) return port;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw key.error("bad port '" + text + "'");
  }

  /** A {@code host[:port]} address others use to reach us; the port may be left out. */
  static void checkAddress(ConfigNode key, String address) throws ConfigException {
    HostPort parsed;
    try {
      parsed = HostPort.parse(address, 0);
    } catch (IllegalArgumentException e) {
      throw key.error(e.getMessage());
    }
    if (parsed.host().isBlank()) throw key.error("missing host in '" + address + "'");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // zookeeper

  private static ZooKeeperConfig zookeeper(ConfigNode root) throws ConfigException {
    ConfigNode zookeeper = root.get("zookeeper");
    if (!zookeeper.isSet()) {
      for (String dcs : OTHER_DCS) {
        if (root.get(dcs).isSet()) throw new ConfigException("pgha supports only zookeeper: found '" + dcs + "'");
      }
    } else {
      for (String dcs : OTHER_DCS) {
        // beside zookeeper, kubernetes: configures the pod role labels (io.pgha.kube), not a DCS
        if (root.get(dcs).isSet() && !dcs.equals("kubernetes")) {
          LOG.warn("ignoring the '{}' section: pgha uses zookeeper", dcs);
        }
      }
    }
    return ZooKeeperSection.zookeeper(root.section("zookeeper"));
  }

  /** A YAML list, or a comma-separated string ({@code h1:p1,h2:p2}); blanks dropped. */
  static List<String> commaList(ConfigNode node) throws ConfigException {
    List<String> items = new ArrayList<>();
    for (String item : node.textList()) {
      for (String part : item.split(",")) {
        if (!part.isBlank()) items.add(part.trim());
      }
    }
    return items;
  }

  /** A list of lines such as pg_hba entries; one string counts as one line. */
  static List<String> lines(ConfigNode node) throws ConfigException {
    List<String> lines = new ArrayList<>();
    for (String line : node.textList()) {
      if (!line.isBlank()) lines.add(line.trim());
    }
    return lines;
  }

}
