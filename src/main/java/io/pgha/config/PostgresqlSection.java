package io.pgha.config;

import static io.pgha.config.ConfigLoader.checkAddress;
import static io.pgha.config.ConfigLoader.lines;
import static io.pgha.config.ConfigLoader.port;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code postgresql} section of the local configuration, validated (part of {@link ConfigLoader}). */
final class PostgresqlSection {
  // the loader's logger, so that log lines are named as before the split
  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  /** pg_basebackup options Patroni sets itself; it logs and skips them. */
  private static final Set<String> BASEBACKUP_FORBIDDEN = Set.of("pgdata", "format", "wal-method", "xlog-method");
  private static final Set<String> CALLBACK_ACTIONS = Set.of("on_start", "on_stop", "on_restart", "on_reload",
      "on_role_change");
  private static final List<String> SSL_MODES = List.of("disable", "allow", "prefer", "require", "verify-ca",
      "verify-full");
  private static final int DEFAULT_POSTGRES_PORT = 5432;
  private static final int DEFAULT_PG_CTL_TIMEOUT = 60;

  private PostgresqlSection() {}

  /** The {@code postgresql} section, except {@code binDir} (null): fromTree looks it up once all else is valid. */
  static PostgresqlConfig postgresql(ConfigNode pg) throws ConfigException {
    ConfigNode listenNode = pg.get("listen");
    ConfigLoader.Listen listen = ConfigLoader.Listen.split(listenNode.requiredText());
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
        List.copyOf(BootstrapSection.toolOptions(pg.get("basebackup"), "pg_basebackup", BASEBACKUP_FORBIDDEN, false)),
        pg.get("use_pg_rewind").optionalBool(),
        pg.get("remove_data_directory_on_rewind_failure").boolOr(false),
        pg.get("remove_data_directory_on_diverged_timelines").boolOr(false),
        (int) Math.min(pgCtlTimeout, Integer.MAX_VALUE),
        pg.get("use_unix_socket").boolOr(false),
        pg.get("use_unix_socket_repl").boolOr(false),
        hookCommand(pg.get("pre_promote")),
        hookCommand(pg.get("before_stop")));
  }

  static PostgresqlConfig withBinDir(PostgresqlConfig c, Path binDir) {
    return new PostgresqlConfig(c.listenAddresses(), c.port(), c.connectAddress(), c.proxyAddress(), c.dataDir(),
        c.configDir(), binDir, c.database(), c.pgpass(), c.superuser(), c.replication(), c.rewind(), c.parameters(),
        c.pgHba(), c.callbacks(), c.basebackupArgs(), c.usePgRewind(), c.removeDataDirectoryOnRewindFailure(),
        c.removeDataDirectoryOnDivergedTimelines(), c.pgCtlTimeoutSeconds(), c.useUnixSocket(),
        c.useUnixSocketRepl(), c.prePromote(), c.beforeStop());
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
      if (ConfigLoader.PROTECTED_GUCS.contains(name.toLowerCase(Locale.ROOT))) {
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

  /** {@code pre_promote}/{@code before_stop}: a command line (split as Patroni splits it), or null when unset/blank. */
  private static String hookCommand(ConfigNode key) throws ConfigException {
    if (!key.isSet()) return null;
    if (!key.json().isTextual()) throw key.error("must be a command line (a string)");
    String text = key.text();
    if (text == null || text.isBlank()) return null;
    checkCommand(key, text);
    return text.trim();
  }

  /**
   * A command of the file is split into words as Patroni splits it ({@link ShellWords}, shlex):
   * one that cannot be split (an unclosed quote) is refused now rather than failing when it is first run.
   */
  static void checkCommand(ConfigNode key, String command) throws ConfigException {
    try {
      ShellWords.split(command);
    } catch (IllegalArgumentException e) {
      throw key.error("cannot split the command into words: " + e.getMessage());
    }
  }
}
