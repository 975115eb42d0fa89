package io.pgha.dcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.config.TestCertificates;
import io.pgha.config.ZooKeeperConfig;
import io.pgha.config.ZooKeeperConfig.Permission;
import io.pgha.launch.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the {@code zookeeper} section becomes ZooKeeper client properties and ACLs. */
class ZkClientsTest {
  @TempDir static Path certs;

  @BeforeAll
  static void makeCertificates() throws Exception {
    TestCertificates.make(certs);
  }

  @Test
  void plainConfigLeavesTheClientAlone() {
    ZKClientConfig client = ZkClients.clientConfig(ZooKeeperConfig.plain(List.of("h:2181")));

    assertThat(client.getBoolean(ZKClientConfig.SECURE_CLIENT)).isFalse();
    assertThat(client.getProperty("zookeeper.ssl.keyStore.location")).isNull();
  }

  @Test
  void tlsUsesNettyTheCaAndAKeyStoreHoldingTheClientPair() throws Exception {
    ZooKeeperConfig.Tls tls = new ZooKeeperConfig.Tls(certs.resolve("ca.crt"), certs.resolve("member.crt"),
        certs.resolve("member-enc.key"), TestCertificates.KEY_PASSWORD);
    ZKClientConfig client = ZkClients.clientConfig(new ZooKeeperConfig(List.of("h:2281"), tls, List.of(), List.of()));

    assertThat(client.getBoolean(ZKClientConfig.SECURE_CLIENT)).isTrue();
    assertThat(client.getProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET))
        .isEqualTo("org.apache.zookeeper.ClientCnxnSocketNetty");
    assertThat(client.getProperty("zookeeper.ssl.trustStore.location")).isEqualTo(certs.resolve("ca.crt").toString());
    assertThat(client.getProperty("zookeeper.ssl.trustStore.type")).isEqualTo("PEM");
    assertThat(client.getProperty("zookeeper.ssl.hostnameVerification")).isEqualTo("false");
    Path store = Path.of(client.getProperty("zookeeper.ssl.keyStore.location"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.getParent()))).isEqualTo("rwx------");
    KeyStore loaded = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(store)) {
      loaded.load(in, client.getProperty("zookeeper.ssl.keyStore.password").toCharArray());
    }
    assertThat(loaded.isKeyEntry("client")).isTrue();
    assertThat(loaded.getCertificate("client").toString()).contains("CN=member");
  }

  @Test
  void withoutCacertTheHostNameIsChecked() {
    ZKClientConfig client = ZkClients.clientConfig(new ZooKeeperConfig(List.of("h:2281"),
        new ZooKeeperConfig.Tls(null, null, null, null), List.of(), List.of()));

    assertThat(client.getProperty("zookeeper.ssl.trustStore.location")).isNull();
    assertThat(client.getProperty("zookeeper.ssl.hostnameVerification")).isEqualTo("true");
  }

  @Test
  void setAclsBecomeZooKeeperAcls() {
    List<ACL> acls = ZkClients.acls(List.of(
        new ZooKeeperConfig.Acl("x509", "CN=member,O=pgha", Set.of(Permission.READ, Permission.WRITE)),
        new ZooKeeperConfig.Acl("digest", "pgha:hash=", Set.of(Permission.ALL)),
        new ZooKeeperConfig.Acl("world", "anyone", Set.of(Permission.CREATE, Permission.DELETE, Permission.ADMIN))));

    assertThat(acls).containsExactly(
        new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.WRITE, new Id("x509", "CN=member,O=pgha")),
        new ACL(ZooDefs.Perms.ALL, new Id("digest", "pgha:hash=")),
        new ACL(ZooDefs.Perms.CREATE | ZooDefs.Perms.DELETE | ZooDefs.Perms.ADMIN, new Id("world", "anyone")));
    // ZooKeeper's client validates an ACL list with contains(null)
    assertThat(acls.contains(null)).isFalse();
  }

  @Test
  void noTlsProblemIsReportedWhenNothingListens() {
    ZooKeeperConfig zk = new ZooKeeperConfig(List.of("127.0.0.1:" + FreePorts.next()),
        new ZooKeeperConfig.Tls(certs.resolve("ca.crt"), null, null, null), List.of(), List.of());

    assertThat(ZkClients.tlsProblem(zk, Duration.ofSeconds(1))).isEmpty();
  }
}
