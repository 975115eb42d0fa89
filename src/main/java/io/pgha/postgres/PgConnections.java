package io.pgha.postgres;

import io.pgha.config.Credentials;
import io.pgha.config.PostgresqlConfig;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import java.io.File;
import java.util.Locale;
import java.util.Map;

/**
 * How pgha connects to PostgreSQL, the one place for Patroni's rules (§8.2): the agent's own connections go over the
 * Unix socket with {@code use_unix_socket}, and every libpq key of {@code postgresql.authentication.<user>}
 * ({@code sslmode}, {@code sslcert}...) applies to the Vert.x client and to the command-line tools' conninfo alike.
 */
public final class PgConnections {
  private PgConnections() {}

  /** Options for {@code user} at {@code host} (a directory means its Unix socket) and {@code port}. */
  public static PgConnectOptions options(PostgresqlConfig pg, Credentials user, String host, int port) {
    PgConnectOptions connect = new PgConnectOptions().setHost(host).setPort(port).setDatabase(pg.database())
        .setUser(user.username())
        .setPassword(user.password() == null ? "" : user.password());
    // like libpq, SSL is never used over a Unix socket (the Vert.x client drops it there too)
    if (!host.startsWith("/")) applySsl(connect, user.libpq());
    return connect;
  }

  /** libpq's sslmode and certificate keys as Vert.x SSL options; libpq's default (prefer) when none is set. */
  static void applySsl(PgConnectOptions connect, Map<String, String> libpq) {
    String mode = libpq.getOrDefault("sslmode", "prefer").toLowerCase(Locale.ROOT);
    SslMode sslMode;
    try {
      sslMode = SslMode.of(mode);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("sslmode: unknown value '" + mode + "'");
    }
    connect.setSslMode(sslMode);
    if (sslMode == SslMode.DISABLE) return;
    ClientSSLOptions ssl = new ClientSSLOptions();
    String rootCert = libpq.get("sslrootcert");
    boolean verify = sslMode == SslMode.VERIFY_CA || sslMode == SslMode.VERIFY_FULL;
    if (rootCert != null && !rootCert.equals("system")) {
      ssl.setTrustOptions(new PemTrustOptions().addCertPath(rootCert));
    } else if ("system".equals(rootCert) || verify) {
      // libpq's sslrootcert=system: the platform's trusted CAs (here the JVM's)
      ssl.setTrustOptions(TrustOptions.wrap(systemTrust()));
    } else {
      // allow/prefer/require without a root certificate: encryption without verification, as libpq does
      ssl.setTrustAll(true);
    }
    ssl.setHostnameVerificationAlgorithm(sslMode == SslMode.VERIFY_FULL ? "HTTPS" : "");
    String cert = libpq.get("sslcert");
    String key = libpq.get("sslkey");
    if (cert != null && key != null && new File(cert).exists()) {
      ssl.setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert).setKeyPath(key));
    }
    String crl = libpq.get("sslcrl");
    if (crl != null) ssl.addCrlPath(crl);
    String crlDir = libpq.get("sslcrldir");
    if (crlDir != null) {
      File[] files = new File(crlDir).listFiles(File::isFile);
      if (files != null) for (File f : files) ssl.addCrlPath(f.getPath());
    }
    connect.setSslOptions(ssl);
  }

  private static javax.net.ssl.TrustManagerFactory systemTrust() {
    try {
      javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance(
          javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      factory.init((java.security.KeyStore) null);
      return factory;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot load the JVM's trusted certificates: " + e.getMessage(), e);
    }
  }

  /**
   * A libpq conninfo ({@code host=... port=... user=... dbname=...} and the user's libpq keys) for pg_basebackup,
   * pg_rewind and scripts. The password stays out: the tools read the pgpass file.
   */
  public static String conninfo(String host, int port, Credentials user, String database) {
    StringBuilder out = new StringBuilder();
    out.append("host=").append(value(host)).append(" port=").append(port)
        .append(" user=").append(value(user.username())).append(" dbname=").append(value(database));
    user.libpq().forEach((k, v) -> out.append(' ').append(k).append('=').append(value(v)));
    return out.toString();
  }

  /** libpq quoting: single quotes when needed, with backslash before quote and backslash. */
  static String value(String v) {
    if (!v.isEmpty() && v.chars().noneMatch(c -> c == ' ' || c == '\'' || c == '\\' || c == '=')) return v;
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
