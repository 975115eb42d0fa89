package io.pgha.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgha.config.ZooKeeperSection;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pgha zookeeper}'s tick, TLS and digest options as zoo.cfg properties, and their mistakes as one line. */
class ZooKeeperCommandTest {
  @TempDir Path dir;

  private Properties parse(String... args) throws Exception {
    String[] all = new String[args.length + 2];
    all[0] = "--data";
    all[1] = dir.toString();
    System.arraycopy(args, 0, all, 2, args.length);
    return ZooKeeperCommand.properties(all);
  }

  @Test
  void withoutSecurityOptionsTheServerIsPlain() throws Exception {
    Properties p = parse("--port", "2999");

    assertThat(p.getProperty("clientPort")).isEqualTo("2999");
    assertThat(p.stringPropertyNames()).noneMatch(k -> k.startsWith("ssl.") || k.startsWith("secure"));
  }

  @Test
  void tlsOnlyWithClientCertificates() throws Exception {
    Properties p = parse("--port", "2999", "--tls-port", "2998", "--tls-only", "--tls-keystore", "/k/server.pem",
        "--tls-truststore", "/k/ca.crt", "--super-digest", "admin:pw");

    assertThat(p.getProperty("clientPort")).isNull();
    assertThat(p.getProperty("secureClientPort")).isEqualTo("2998");
    assertThat(p.getProperty("serverCnxnFactory")).isEqualTo("org.apache.zookeeper.server.NettyServerCnxnFactory");
    assertThat(p.getProperty("ssl.keyStore.location")).isEqualTo("/k/server.pem");
    assertThat(p.getProperty("ssl.keyStore.type")).isEqualTo("PEM");
    assertThat(p.getProperty("ssl.trustStore.location")).isEqualTo("/k/ca.crt");
    assertThat(p.getProperty("ssl.clientAuth")).isEqualTo("need");
    assertThat(p.getProperty("authProvider.x509"))
        .isEqualTo("org.apache.zookeeper.server.auth.X509AuthenticationProvider");
    assertThat(p.getProperty("DigestAuthenticationProvider.superDigest"))
        .isEqualTo(ZooKeeperSection.digestId("admin", "pw"));
  }

  @Test
  void tlsBesidePlainWithoutClientCertificates() throws Exception {
    Properties p = parse("--port", "2999", "--tls-port", "2998", "--tls-keystore", "/k/server.p12",
        "--tls-keystore-password", "x");

    assertThat(p.getProperty("clientPort")).isEqualTo("2999");
    assertThat(p.getProperty("ssl.keyStore.type")).isEqualTo("PKCS12");
    assertThat(p.getProperty("ssl.keyStore.password")).isEqualTo("x");
    assertThat(p.getProperty("ssl.clientAuth")).isEqualTo("none");
    assertThat(p.getProperty("authProvider.x509")).isNull();
  }

  @Test
  void inconsistentOptionsAreOneLine() {
    assertThatThrownBy(() -> parse("--tls-port", "2998")).hasMessage(
        "--tls-port needs --tls-keystore (the server's key and certificate)");
    assertThatThrownBy(() -> parse("--tls-only")).hasMessage("--tls-only needs --tls-port");
    assertThatThrownBy(() -> parse("--tls-keystore", "/k/s.pem")).hasMessage(
        "--tls-keystore and --tls-truststore need --tls-port");
    assertThatThrownBy(() -> parse("--tls-port", "2998", "--tls-keystore", "/k/s.pem", "--tls-client-auth", "need"))
        .hasMessage("--tls-client-auth need needs --tls-truststore (the CA of client certificates)");
    assertThatThrownBy(() -> parse("--tls-port", "2998", "--tls-keystore", "/k/s.pem", "--tls-truststore", "/k/c",
        "--tls-client-auth", "maybe")).hasMessage("--tls-client-auth must be need, want or none, got 'maybe'");
    assertThatThrownBy(() -> parse("--super-digest", "admin")).hasMessage("--super-digest must be user:password");
    assertThatThrownBy(() -> parse("--print-digest", "nocolon")).hasMessage("--print-digest needs USER:PASSWORD");
  }

  @Test
  void printDigestAnswersWithTheSetAclsPrincipal() {
    assertThatThrownBy(() -> parse("--print-digest", "pgha:pw"))
        .isInstanceOf(ZooKeeperCommand.PrintDigest.class)
        .hasMessage("digest:" + ZooKeeperSection.digestId("pgha", "pw"));
  }

  @Test
  void theDefaultTickKeepsExplicitSessionBounds() throws Exception {
    Properties p = ZooKeeperCommand.properties(new String[] {"--data", dir.toString()});

    assertThat(p.getProperty("tickTime")).isEqualTo("200");
    assertThat(p.getProperty("minSessionTimeout")).isEqualTo("2000");
    assertThat(p.getProperty("maxSessionTimeout")).isEqualTo("120000");
  }

  @Test
  void aStockTickLeavesTheSessionBoundsToZooKeepersRule() throws Exception {
    Properties p = ZooKeeperCommand.properties(new String[] {"--data", dir.toString(), "--tick-time", "2000"});

    assertThat(p.getProperty("tickTime")).isEqualTo("2000");
    assertThat(p.getProperty("minSessionTimeout")).isNull();
    assertThat(p.getProperty("maxSessionTimeout")).isNull();
    assertThat(p.getProperty("initLimit")).isEqualTo("5");
    assertThat(p.getProperty("syncLimit")).isEqualTo("2");
  }

  @Test
  void aBadTickIsRefused() {
    assertThatThrownBy(() -> ZooKeeperCommand.properties(new String[] {"--tick-time", "0"}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--tick-time must be 1..60000 ms, got 0");
    assertThatThrownBy(() -> ZooKeeperCommand.properties(new String[] {"--tick-time", "2s"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tick-time must be a whole number of ms (1..60000), got '2s'");
  }
}
