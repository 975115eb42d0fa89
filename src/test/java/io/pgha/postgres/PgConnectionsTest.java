package io.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgha.config.Credentials;
import io.pgha.config.PostgresqlConfig;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgConnectionsTest {
  @TempDir
  Path tmp;

  private PostgresqlConfig pg(boolean useUnixSocket, com.fasterxml.jackson.databind.node.ObjectNode params) {
    return new PostgresqlConfig("0.0.0.0", 5433, "10.0.0.1:5433", null, tmp, tmp, tmp, "postgres", tmp.resolve("pgpass"),
        new Credentials("postgres", null), new Credentials("replicator", "r"), null, params, null, Map.of(), List.of(),
        null, false, false, 60, useUnixSocket, false);
  }

  @Test
  void useUnixSocketTakesTheFirstAbsoluteSocketDirectory() {
    var params = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()
        .put("unix_socket_directories", "@abstract, /run/pg ,/tmp");
    assertThat(pg(true, params).localConnectHost()).isEqualTo("/run/pg");
    assertThat(pg(false, params).localConnectHost()).isEqualTo("127.0.0.1");
    assertThat(pg(true, null).localConnectHost()).isEqualTo(PostgresqlConfig.defaultSocketDirectory());
  }

  @Test
  void verifyCaWithCertificatesBecomesVertxSslOptions() throws Exception {
    Path cert = Files.writeString(tmp.resolve("su.crt"), "x");
    Credentials su = new Credentials("postgres", "pw", Map.of("sslmode", "verify-ca",
        "sslrootcert", "/c/ca.crt", "sslcert", cert.toString(), "sslkey", "/c/su.key"));
    PgConnectOptions options = PgConnections.options(pg(false, null), su, "10.0.0.2", 5432);

    assertThat(options.getSslMode()).isEqualTo(SslMode.VERIFY_CA);
    assertThat(options.getSslOptions().isTrustAll()).isFalse();
    assertThat(options.getSslOptions().getHostnameVerificationAlgorithm()).isEmpty();
    assertThat(((PemTrustOptions) options.getSslOptions().getTrustOptions()).getCertPaths())
        .containsExactly("/c/ca.crt");
    PemKeyCertOptions key = (PemKeyCertOptions) options.getSslOptions().getKeyCertOptions();
    assertThat(key.getCertPath()).isEqualTo(cert.toString());
    assertThat(key.getKeyPath()).isEqualTo("/c/su.key");
    assertThat(options.getPassword()).isEqualTo("pw");
  }

  @Test
  void verifyFullChecksTheHostNameAndRequireDoesNotVerify() {
    PgConnectOptions full = PgConnections.options(pg(false, null),
        new Credentials("postgres", null, Map.of("sslmode", "verify-full", "sslrootcert", "/c/ca.crt")), "db1", 5432);
    assertThat(full.getSslOptions().getHostnameVerificationAlgorithm()).isEqualTo("HTTPS");
    PgConnectOptions require = PgConnections.options(pg(false, null),
        new Credentials("postgres", null, Map.of("sslmode", "require")), "db1", 5432);
    assertThat(require.getSslMode()).isEqualTo(SslMode.REQUIRE);
    assertThat(require.getSslOptions().isTrustAll()).isTrue();
    assertThat(require.getPassword()).isEmpty();
  }

  @Test
  void verifyWithoutARootCertificateUsesTheSystemCertificatesAsLibpqSystem() {
    PgConnectOptions system = PgConnections.options(pg(false, null),
        new Credentials("postgres", null, Map.of("sslmode", "verify-full", "sslrootcert", "system")), "db1", 5432);
    assertThat(system.getSslOptions().getTrustOptions()).isNotNull();
    assertThat(system.getSslOptions().isTrustAll()).isFalse();
    PgConnectOptions noRoot = PgConnections.options(pg(false, null),
        new Credentials("postgres", null, Map.of("sslmode", "verify-ca")), "db1", 5432);
    assertThat(noRoot.getSslOptions().getTrustOptions()).isNotNull();
  }

  @Test
  void noSslOverTheUnixSocketAsLibpq() {
    PgConnectOptions socket = PgConnections.options(pg(true, null),
        new Credentials("postgres", null, Map.of("sslmode", "verify-ca", "sslrootcert", "/c/ca.crt")), "/run/pg", 5432);
    assertThat(socket.isUsingDomainSocket()).isTrue();
    assertThat(socket.getSslMode()).isEqualTo(SslMode.DISABLE);
  }

  @Test
  void anUnknownSslmodeIsAOneLineError() {
    assertThatThrownBy(() -> PgConnections.options(pg(false, null),
        new Credentials("postgres", null, Map.of("sslmode", "sometimes")), "db1", 5432))
        .hasMessage("sslmode: unknown value 'sometimes'");
  }

  @Test
  void conninfoForTheToolsHasTheLibpqKeysAndNoPassword() {
    String conninfo = PgConnections.conninfo("/run/pg", 5432, new Credentials("rep", "secret",
        Map.of("sslmode", "verify-ca", "sslkey", "/k y")), "postgres");
    assertThat(conninfo).isEqualTo("host=/run/pg port=5432 user=rep dbname=postgres sslkey='/k y' sslmode=verify-ca");
  }
}
