package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
  /** initdb options Patroni sets itself and refuses from {@code bootstrap.initdb}. */
  private static final Set<String> INITDB_FORBIDDEN = Set.of("pgdata", "nosync", "pwfile", "sync-only", "version");
  /** pg_basebackup options Patroni sets itself; it logs and skips them. */
  private static final Set<String> BASEBACKUP_FORBIDDEN = Set.of("pgdata", "format", "wal-method", "xlog-method");
  private static final Set<String> CALLBACK_ACTIONS = Set.of("on_start", "on_stop", "on_restart", "on_reload",
      "on_role_change");
  /** Tags that are booleans defaulting to false; Patroni publishes them only when true. */
  private static final Set<String> BOOLEAN_TAGS = Set.of("nofailover", "noloadbalance", "clonefrom", "nosync",
      "nostream");
  private static final List<String> SSL_MODES = List.of("disable", "allow", "prefer", "require", "verify-ca",
      "verify-full");
  private static final Set<String> VERIFY_CLIENT_MODES = Set.of("none", "optional", "required");

  private static final int DEFAULT_POSTGRES_PORT = 5432;
  private static final int DEFAULT_ZOOKEEPER_PORT = 2181;
  private static final int DEFAULT_PG_CTL_TIMEOUT = 60;
  // the run-time minima, so that a file is refused exactly when the cluster would have to adjust it
  private static final int MIN_TTL = DynamicConfig.TTL_MIN;
  private static final int MIN_LOOP_WAIT = DynamicConfig.LOOP_WAIT_MIN;
  private static final int MIN_RETRY_TIMEOUT = DynamicConfig.RETRY_TIMEOUT_MIN;

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
    PostgresqlConfig postgresWithoutBinaries = postgresql(postgresql);
    ZooKeeperConfig zookeeper = zookeeper(root);
    BootstrapConfig bootstrap = bootstrap(root);
    Tags tags = tags(root.section("tags"));

    // last, so that a machine without PostgreSQL still reports mistakes in the file first
    Path binDir = binaries.find(postgresql.get("bin_dir").text());
    PostgresqlConfig postgres = withBinDir(postgresWithoutBinaries, binDir);
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

  private static int port(ConfigNode key, String text) throws ConfigException {
    try {
      int port = Integer.parseInt(text.trim());
      if (port >= 1 && port <= 65535) return port;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw key.error("bad port '" + text + "'");
  }

  /** A {@code host[:port]} address others use to reach us; the port may be left out. */
  private static void checkAddress(ConfigNode key, String address) throws ConfigException {
    HostPort parsed;
    try {
      parsed = HostPort.parse(address, 0);
    } catch (IllegalArgumentException e) {
      throw key.error(e.getMessage());
    }
    if (parsed.host().isBlank()) throw key.error("missing host in '" + address + "'");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // postgresql

  /** The {@code postgresql} section, except {@code binDir} (null): fromTree looks it up once all else is valid. */
  private static PostgresqlConfig postgresql(ConfigNode pg) throws ConfigException {
    ConfigNode listenNode = pg.get("listen");
    Listen listen = Listen.split(listenNode.requiredText());
    int port = listen.port() == null ? DEFAULT_POSTGRES_PORT : port(listenNode, listen.port());

    ConfigNode connectNode = pg.get("connect_address");
    String connectAddress = connectNode.requiredText();
    checkAddress(connectNode, connectAddress);
    ConfigNode proxyNode = pg.get("proxy_address");
    String proxyAddress = proxyNode.text();
    if (proxyAddress != null && !proxyAddress.isBlank()) checkAddress(proxyNode, proxyAddress.trim());
    else proxyAddress = null;

    ConfigNode dataDirNode = pg.get("data_dir");
    Path dataDir = absolutePath(dataDirNode, dataDirNode.requiredText());
    ConfigNode configDirNode = pg.get("config_dir");
    String configDirText = configDirNode.text();
    Path configDir = configDirText == null || configDirText.isBlank() ? dataDir
        : absolutePath(configDirNode, configDirText.trim());
    ConfigNode pgpassNode = pg.get("pgpass");
    String pgpassText = pgpassNode.text();
    // Patroni's default is ~/pgpass, without the dot, so it never clobbers the user's own ~/.pgpass
    Path pgpass = pgpassText == null || pgpassText.isBlank()
        ? Path.of(System.getProperty("user.home"), "pgpass").toAbsolutePath().normalize()
        : absolutePath(pgpassNode, pgpassText.trim());

    String database = pg.get("database").textOr("postgres").trim();
    if (database.isEmpty()) throw pg.get("database").error("must not be empty");

    ConfigNode auth = pg.section("authentication");
    Credentials superuser = credentials(auth.section("superuser"), "postgres", null);
    Credentials replication = credentials(auth.section("replication"), "replicator", null);
    // without a rewind user, Patroni runs pg_rewind as the superuser
    Credentials rewind = credentials(auth.section("rewind"), null, superuser);

    ConfigNode pgHbaNode = pg.get("pg_hba");
    List<String> pgHba = pgHbaNode.isSet() ? List.copyOf(lines(pgHbaNode)) : null;

    ConfigNode timeoutNode = pg.get("pg_ctl_timeout");
    long pgCtlTimeout = timeoutNode.longOr(DEFAULT_PG_CTL_TIMEOUT);
    if (pgCtlTimeout < 1) throw timeoutNode.error("must be at least 1, got " + pgCtlTimeout);

    return new PostgresqlConfig(listen.hosts(), port, connectAddress, proxyAddress, dataDir, configDir, null,
        database, pgpass, superuser, replication, rewind,
        localParameters(pg.section("parameters")),
        pgHba,
        callbacks(pg.section("callbacks")),
        List.copyOf(toolOptions(pg.get("basebackup"), "pg_basebackup", BASEBACKUP_FORBIDDEN, false)),
        pg.get("use_pg_rewind").optionalBool(),
        pg.get("remove_data_directory_on_rewind_failure").boolOr(false),
        pg.get("remove_data_directory_on_diverged_timelines").boolOr(false),
        (int) Math.min(pgCtlTimeout, Integer.MAX_VALUE),
        pg.get("use_unix_socket").boolOr(false),
        pg.get("use_unix_socket_repl").boolOr(false));
  }

  private static PostgresqlConfig withBinDir(PostgresqlConfig c, Path binDir) {
    return new PostgresqlConfig(c.listenAddresses(), c.port(), c.connectAddress(), c.proxyAddress(), c.dataDir(),
        c.configDir(), binDir, c.database(), c.pgpass(), c.superuser(), c.replication(), c.rewind(), c.parameters(),
        c.pgHba(), c.callbacks(), c.basebackupArgs(), c.usePgRewind(), c.removeDataDirectoryOnRewindFailure(),
        c.removeDataDirectoryOnDivergedTimelines(), c.pgCtlTimeoutSeconds(), c.useUnixSocket(),
        c.useUnixSocketRepl());
  }

  /** A path as written, made absolute against the current directory (where Patroni resolves it too). */
  private static Path absolutePath(ConfigNode key, String text) throws ConfigException {
    try {
      return Path.of(text).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw key.error("invalid path '" + text + "'");
    }
  }

  private static Credentials credentials(ConfigNode entry, String defaultUser, Credentials fallback)
      throws ConfigException {
    if (!entry.isSet() && fallback != null) return fallback;
    String username = entry.get("username").text();
    if (username == null || username.isBlank()) {
      if (defaultUser == null) throw entry.get("username").error("required");
      username = defaultUser;
    }
    Map<String, String> libpq = new LinkedHashMap<>();
    for (String key : Credentials.LIBPQ_KEYS) {
      String value = entry.get(key).text();
      if (value != null && !value.isBlank()) libpq.put(key, value.trim());
    }
    String sslmode = libpq.get("sslmode");
    if (sslmode != null && !SSL_MODES.contains(sslmode)) {
      throw entry.get("sslmode").error("must be one of " + SSL_MODES + ", got '" + sslmode + "'");
    }
    return new Credentials(username.trim(), entry.get("password").text(), libpq);
  }

  /** The local parameters without the protected GUCs, which only the dynamic configuration may set. */
  private static ObjectNode localParameters(ConfigNode parametersNode) throws ConfigException {
    ObjectNode parameters = parametersNode.objectCopy();
    List<String> dropped = new ArrayList<>();
    Iterator<String> names = parameters.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (PROTECTED_GUCS.contains(name.toLowerCase(Locale.ROOT))) {
        dropped.add(name);
        names.remove();
      }
    }
    if (!dropped.isEmpty()) {
      LOG.info("postgresql.parameters: ignoring {}: these must be equal on all members and are set only in the "
          + "dynamic configuration (bootstrap.dcs.postgresql.parameters or patronictl edit-config)", dropped);
    }
    return parameters;
  }

  private static Map<String, String> callbacks(ConfigNode callbacksNode) throws ConfigException {
    Map<String, String> callbacks = new LinkedHashMap<>();
    if (!callbacksNode.isSet()) return Collections.unmodifiableMap(callbacks);
    Iterator<String> actions = callbacksNode.json().fieldNames();
    while (actions.hasNext()) {
      String action = actions.next();
      ConfigNode command = callbacksNode.get(action);
      if (!CALLBACK_ACTIONS.contains(action)) {
        LOG.warn("{}: unknown callback, ignored (known: {})", command.path(), CALLBACK_ACTIONS);
        continue;
      }
      String text = command.text();
      if (text != null && !text.isBlank()) {
        checkCommand(command, text);
        callbacks.put(action, text.trim());
      }
    }
    return Collections.unmodifiableMap(callbacks);
  }

  /**
   * A command of the file is split into words as Patroni splits it ({@link io.pgha.postgres.ShellWords}, shlex):
   * one that cannot be split (an unclosed quote) is refused now rather than failing when it is first run.
   */
  private static void checkCommand(ConfigNode key, String command) throws ConfigException {
    try {
      io.pgha.postgres.ShellWords.split(command);
    } catch (IllegalArgumentException e) {
      throw key.error("cannot split the command into words: " + e.getMessage());
    }
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
    zookeeper = root.section("zookeeper");
    ConfigNode hostsNode = zookeeper.get("hosts");
    List<String> hosts = new ArrayList<>();
    for (String host : commaList(hostsNode)) {
      try {
        hosts.add(HostPort.parse(host, DEFAULT_ZOOKEEPER_PORT).toUrlAuthority());
      } catch (IllegalArgumentException e) {
        throw hostsNode.error(e.getMessage());
      }
    }
    if (hosts.isEmpty()) throw hostsNode.error("required");
    return new ZooKeeperConfig(List.copyOf(hosts));
  }

  /** A YAML list, or a comma-separated string ({@code h1:p1,h2:p2}); blanks dropped. */
  private static List<String> commaList(ConfigNode node) throws ConfigException {
    List<String> items = new ArrayList<>();
    for (String item : node.textList()) {
      for (String part : item.split(",")) {
        if (!part.isBlank()) items.add(part.trim());
      }
    }
    return items;
  }

  /** A list of lines such as pg_hba entries; one string counts as one line. */
  private static List<String> lines(ConfigNode node) throws ConfigException {
    List<String> lines = new ArrayList<>();
    for (String line : node.textList()) {
      if (!line.isBlank()) lines.add(line.trim());
    }
    return lines;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // bootstrap

  private static BootstrapConfig bootstrap(ConfigNode root) throws ConfigException {
    ConfigNode bootstrap = root.section("bootstrap");
    ConfigNode dcsNode = bootstrap.section("dcs");
    ObjectNode dcs = dcsNode.objectCopy();
    checkBootstrapTimings(dcsNode);
    // the remaining dynamic keys are parsed leniently at run time; say now what would be adjusted
    for (String warning : DynamicConfig.parse(dcs).warnings()) LOG.warn("bootstrap.dcs: {}", warning);

    List<String> initdbArgs = toolOptions(bootstrap.get("initdb"), "initdb", INITDB_FORBIDDEN, true);
    List<String> pgHba = lines(bootstrap.get("pg_hba"));
    String postBootstrap = bootstrap.get("post_bootstrap").text();
    if (postBootstrap == null || postBootstrap.isBlank()) postBootstrap = bootstrap.get("post_init").text();
    if (postBootstrap != null && postBootstrap.isBlank()) postBootstrap = null;
    if (postBootstrap != null) {
      checkCommand(bootstrap.get(bootstrap.get("post_bootstrap").isSet() ? "post_bootstrap" : "post_init"),
          postBootstrap);
    }
    return new BootstrapConfig(dcs, List.copyOf(initdbArgs), List.copyOf(pgHba),
        postBootstrap == null ? null : postBootstrap.trim(), bootstrap.isSet());
  }

  /**
   * The timings the bootstrap winner writes to the {@code config} znode must hold the leader lock safely: each at
   * least its minimum, and {@code loop_wait + 2*retry_timeout <= ttl}. At run time a bad {@code config} is only
   * adjusted ({@link DynamicConfig#parse}); the operator's own file is rejected so the mistake is seen.
   */
  private static void checkBootstrapTimings(ConfigNode dcs) throws ConfigException {
    long ttl = atLeast(dcs.get("ttl"), DynamicConfig.TTL_DEFAULT, MIN_TTL);
    long loopWait = atLeast(dcs.get("loop_wait"), DynamicConfig.LOOP_WAIT_DEFAULT, MIN_LOOP_WAIT);
    long retryTimeout = atLeast(dcs.get("retry_timeout"), DynamicConfig.RETRY_TIMEOUT_DEFAULT, MIN_RETRY_TIMEOUT);
    if (loopWait + 2 * retryTimeout > ttl) {
      throw new ConfigException("bootstrap.dcs: loop_wait + 2*retry_timeout must be <= ttl (got loop_wait="
          + loopWait + ", retry_timeout=" + retryTimeout + ", ttl=" + ttl + ")");
    }
  }

  private static long atLeast(ConfigNode node, long fallback, long minimum) throws ConfigException {
    long value = node.longOr(fallback);
    if (value < minimum) throw node.error("must be at least " + minimum + ", got " + value);
    return value;
  }

  /**
   * Patroni's {@code process_user_options}: a list of {@code - flag} / {@code - key: value} items, or a mapping,
   * becomes {@code --flag} / {@code --key=value}. Options Patroni sets itself are refused ({@code refuse}) or
   * dropped with a warning, as Patroni does for initdb and pg_basebackup respectively.
   */
  private static List<String> toolOptions(ConfigNode node, String tool, Set<String> forbidden, boolean refuse)
      throws ConfigException {
    List<String> args = new ArrayList<>();
    if (!node.isSet()) return args;
    JsonNode options = node.json();
    if (options.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = options.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> option = fields.next();
        // Patroni skips entries with an empty or false value in the mapping form
        if (option.getKey().isEmpty() || !isTruthy(option.getValue())) continue;
        addOption(args, node, tool, option.getKey(), option.getValue(), forbidden, refuse);
      }
    } else if (options.isArray()) {
      for (JsonNode item : options) {
        if (item.isObject() && item.size() == 1) {
          Map.Entry<String, JsonNode> option = item.fields().next();
          addOption(args, node, tool, option.getKey(), option.getValue(), forbidden, refuse);
        } else if (item.isValueNode() && !item.isNull()) {
          addOption(args, node, tool, item.asText(), null, forbidden, refuse);
        } else {
          throw node.error(
              "each item must be an option name or a single 'name: value', got " + ConfigNode.describe(item));
        }
      }
    } else {
      throw node.error("must be a list of options, got " + node.describe());
    }
    return args;
  }

  private static void addOption(List<String> args, ConfigNode node, String tool, String name, JsonNode value,
      Set<String> forbidden, boolean refuse) throws ConfigException {
    String option = name.trim();
    if (forbidden.contains(option)) {
      if (refuse) throw node.error("option '" + option + "' is not allowed: pgha sets it for " + tool + " itself");
      LOG.warn("{}: ignoring option '{}': pgha sets it for {} itself", node.path(), option, tool);
      return;
    }
    if (value == null) {
      args.add("--" + option);
    } else if (value.isValueNode() && !value.isNull()) {
      args.add("--" + option + "=" + unquote(value.asText()));
    } else {
      throw node.error("option '" + option + "' needs a single value, got " + ConfigNode.describe(value));
    }
  }

  /** Patroni's {@code unquote}: a value written in shell quotes ({@code "'en_US.UTF-8'"}) loses them. */
  private static String unquote(String value) {
    if (value.length() >= 2) {
      char first = value.charAt(0);
      char last = value.charAt(value.length() - 1);
      if ((first == '\'' || first == '"') && first == last && value.indexOf(first, 1) == value.length() - 1) {
        return value.substring(1, value.length() - 1);
      }
    }
    return value;
  }

  private static boolean isTruthy(JsonNode value) {
    if (value == null || value.isNull()) return false;
    if (value.isBoolean()) return value.booleanValue();
    if (value.isNumber()) return value.asDouble() != 0;
    if (value.isContainerNode()) return value.size() > 0;
    return !value.asText().isEmpty();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // tags

  private static Tags tags(ConfigNode tagsNode) throws ConfigException {
    ObjectNode published = NODES.objectNode();
    boolean nofailover = false;
    Boolean nofailoverSet = null;
    Boolean nosyncSet = null;
    Integer failoverPriority = null;
    Integer syncPriority = null;
    boolean noloadbalance = false;
    boolean clonefrom = false;
    boolean nosync = false;
    boolean nostream = false;
    String replicatefrom = null;

    if (tagsNode.isSet()) {
      Iterator<String> names = tagsNode.json().fieldNames();
      while (names.hasNext()) {
        String name = names.next();
        ConfigNode tag = tagsNode.get(name);
        if (BOOLEAN_TAGS.contains(name)) {
          Boolean value = tag.optionalBool();
          boolean enabled = value != null && value;
          switch (name) {
            case "nofailover" -> { nofailover = enabled; nofailoverSet = value; }
            case "noloadbalance" -> noloadbalance = enabled;
            case "clonefrom" -> clonefrom = enabled;
            case "nosync" -> { nosync = enabled; nosyncSet = value; }
            case "nostream" -> nostream = enabled;
            default -> throw new IllegalStateException(name);
          }
          if (value != null) published.put(name, enabled);
        } else if (name.equals("failover_priority") || name.equals("sync_priority")) {
          Integer priority = priority(tag);
          if (name.equals("failover_priority")) failoverPriority = priority;
          else syncPriority = priority;
          if (priority != null) published.put(name, priority);
        } else if (name.equals("replicatefrom")) {
          replicatefrom = tag.text();
          if (replicatefrom != null && !replicatefrom.isBlank()) published.put(name, replicatefrom.trim());
          else replicatefrom = null;
        } else if (tag.isSet()) {
          published.set(name, tag.json().deepCopy());
        }
      }
    }

    checkNotContradictory(tagsNode, "nofailover", nofailoverSet, "failover_priority", failoverPriority);
    checkNotContradictory(tagsNode, "nosync", nosyncSet, "sync_priority", syncPriority);
    // false booleans are not published, except that Patroni keeps a false nofailover/nosync next to its priority
    // tag so that readers see both were considered
    for (String name : BOOLEAN_TAGS) {
      boolean keptWithPriority = name.equals("nofailover") && failoverPriority != null
          || name.equals("nosync") && syncPriority != null;
      if (published.path(name).isBoolean() && !published.get(name).booleanValue() && !keptWithPriority) {
        published.remove(name);
      }
    }
    return new Tags(nofailover, failoverPriority, noloadbalance, clonefrom, nosync, nostream,
        replicatefrom == null ? null : replicatefrom.trim(), published);
  }

  private static Integer priority(ConfigNode tag) throws ConfigException {
    if (!tag.isSet()) return null;
    long value = tag.longOr(1);
    if (value < 0) throw tag.error("must be 0 or more, got " + value);
    return (int) Math.min(value, Integer.MAX_VALUE);
  }

  /**
   * {@code nofailover} and {@code failover_priority} (likewise {@code nosync} and {@code sync_priority}) say the
   * same thing twice; when they disagree Patroni quietly lets the boolean win, which hides a likely mistake.
   */
  private static void checkNotContradictory(ConfigNode tags, String flagName, Boolean flag, String priorityName,
      Integer priority) throws ConfigException {
    if (flag == null || priority == null) return;
    if (flag && priority > 0 || !flag && priority == 0) {
      throw tags.error(flagName + ": " + flag + " contradicts " + priorityName + ": " + priority
          + " (" + priorityName + " 0 means " + flagName + "); set only one of them");
    }
  }
}
