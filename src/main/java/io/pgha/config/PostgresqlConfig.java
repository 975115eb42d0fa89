package io.pgha.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code postgresql} section (patroni-compat §8.2).
 *
 * @param listenAddresses the host part of {@code listen} ("a,b" kept as written), for {@code listen_addresses}
 * @param port the port of {@code listen}
 * @param connectAddress {@code host:port} advertised in {@code conn_url}
 * @param binDir directory holding the PostgreSQL binaries, resolved from {@code bin_dir}, PATH or the usual
 *     Debian/RHEL locations; never null after loading
 * @param pgpass the pgpass file the agent writes (default {@code ~/pgpass}, as Patroni)
 * @param parameters local {@code postgresql.parameters} (protected GUCs already removed, §8.1)
 * @param pgHba {@code postgresql.pg_hba} lines, or null when not configured
 * @param callbacks {@code postgresql.callbacks}: action name to command
 * @param usePgRewind local override of {@code use_pg_rewind}, or null to take the dynamic value
 * @param useUnixSocket {@code use_unix_socket}: the agent reaches its own postgres over the Unix socket
 * @param useUnixSocketRepl {@code use_unix_socket_repl}: replication connections to the local postgres use it
 * @param prePromote {@code pre_promote}: the command run (and waited for) before a promotion, or null
 * @param beforeStop {@code before_stop}: the command run (and waited for) before postgres is stopped, or null
 */
public record PostgresqlConfig(
    String listenAddresses,
    int port,
    String connectAddress,
    String proxyAddress,
    Path dataDir,
    Path configDir,
    Path binDir,
    String database,
    Path pgpass,
    Credentials superuser,
    Credentials replication,
    Credentials rewind,
    ObjectNode parameters,
    List<String> pgHba,
    Map<String, String> callbacks,
    List<String> basebackupArgs,
    Boolean usePgRewind,
    boolean removeDataDirectoryOnRewindFailure,
    boolean removeDataDirectoryOnDivergedTimelines,
    int pgCtlTimeoutSeconds,
    boolean useUnixSocket,
    boolean useUnixSocketRepl,
    String prePromote,
    String beforeStop) {

  /** Without the socket settings (both off), as before they existed. */
  public PostgresqlConfig(String listenAddresses, int port, String connectAddress, String proxyAddress, Path dataDir,
      Path configDir, Path binDir, String database, Path pgpass, Credentials superuser, Credentials replication,
      Credentials rewind, ObjectNode parameters, List<String> pgHba, Map<String, String> callbacks,
      List<String> basebackupArgs, Boolean usePgRewind, boolean removeDataDirectoryOnRewindFailure,
      boolean removeDataDirectoryOnDivergedTimelines, int pgCtlTimeoutSeconds) {
    this(listenAddresses, port, connectAddress, proxyAddress, dataDir, configDir, binDir, database, pgpass, superuser,
        replication, rewind, parameters, pgHba, callbacks, basebackupArgs, usePgRewind,
        removeDataDirectoryOnRewindFailure, removeDataDirectoryOnDivergedTimelines, pgCtlTimeoutSeconds, false, false);
  }

  /** Without the hooks ({@code pre_promote}, {@code before_stop}), as before they existed. */
  public PostgresqlConfig(String listenAddresses, int port, String connectAddress, String proxyAddress, Path dataDir,
      Path configDir, Path binDir, String database, Path pgpass, Credentials superuser, Credentials replication,
      Credentials rewind, ObjectNode parameters, List<String> pgHba, Map<String, String> callbacks,
      List<String> basebackupArgs, Boolean usePgRewind, boolean removeDataDirectoryOnRewindFailure,
      boolean removeDataDirectoryOnDivergedTimelines, int pgCtlTimeoutSeconds, boolean useUnixSocket,
      boolean useUnixSocketRepl) {
    this(listenAddresses, port, connectAddress, proxyAddress, dataDir, configDir, binDir, database, pgpass, superuser,
        replication, rewind, parameters, pgHba, callbacks, basebackupArgs, usePgRewind,
        removeDataDirectoryOnRewindFailure, removeDataDirectoryOnDivergedTimelines, pgCtlTimeoutSeconds, useUnixSocket,
        useUnixSocketRepl, null, null);
  }

  /** The same settings with other {@code postgresql.parameters} (a reload of the configuration file). */
  public PostgresqlConfig withParameters(ObjectNode newParameters) {
    return new PostgresqlConfig(listenAddresses, port, connectAddress, proxyAddress, dataDir, configDir, binDir,
        database, pgpass, superuser, replication, rewind, newParameters, pgHba, callbacks, basebackupArgs,
        usePgRewind, removeDataDirectoryOnRewindFailure, removeDataDirectoryOnDivergedTimelines, pgCtlTimeoutSeconds,
        useUnixSocket, useUnixSocketRepl, prePromote, beforeStop);
  }

  /** The same settings with other {@code pg_hba} lines (the dynamic configuration's, when the file has none). */
  public PostgresqlConfig withPgHba(List<String> lines) {
    return new PostgresqlConfig(listenAddresses, port, connectAddress, proxyAddress, dataDir, configDir, binDir,
        database, pgpass, superuser, replication, rewind, parameters, lines, callbacks, basebackupArgs,
        usePgRewind, removeDataDirectoryOnRewindFailure, removeDataDirectoryOnDivergedTimelines, pgCtlTimeoutSeconds,
        useUnixSocket, useUnixSocketRepl, prePromote, beforeStop);
  }

  /** Host of {@code connect_address}. */
  public String connectHost() {
    return HostPort.parse(connectAddress, port).host();
  }

  /** Port of {@code connect_address}. */
  public int connectPort() {
    return HostPort.parse(connectAddress, port).port();
  }

  /** {@code postgres://<connect_address>/<database>}, published as {@code conn_url}. */
  public String connUrl() {
    HostPort hp = HostPort.parse(connectAddress, port);
    return "postgres://" + hp.toUrlAuthority() + "/" + database;
  }

  /** The host the agent itself uses to reach its own postgres over TCP. */
  public String localHost() {
    String first = listenAddresses.split(",")[0].trim();
    if (first.isEmpty() || first.equals("*") || first.equals("0.0.0.0")) return "127.0.0.1";
    if (first.equals("::")) return "::1";
    return first;
  }

  /**
   * The Unix socket directory the agent connects through: the first absolute entry of the local
   * {@code unix_socket_directories}, else {@code fallback} (the directory pgha gives postgres when none is set).
   * Patroni takes the first absolute entry the same way.
   */
  public String unixSocketDirectory(String fallback) {
    com.fasterxml.jackson.databind.JsonNode dirs = parameters == null ? null : parameters.get("unix_socket_directories");
    if (dirs != null && !dirs.isNull()) {
      for (String dir : dirs.asText().split(",")) {
        if (dir.trim().startsWith("/")) return dir.trim();
      }
    }
    return fallback;
  }

  /** The socket directory pgha gives postgres when {@code unix_socket_directories} is not configured. */
  public static String defaultSocketDirectory() {
    return java.nio.file.Files.isWritable(Path.of("/var/run/postgresql")) ? "/var/run/postgresql" : "/tmp";
  }

  /** Host (socket directory or address) for the agent's own connections, per {@code use_unix_socket}. */
  public String localConnectHost() {
    return useUnixSocket ? unixSocketDirectory(defaultSocketDirectory()) : localHost();
  }
}
