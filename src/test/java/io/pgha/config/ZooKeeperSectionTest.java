package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgha.config.ZooKeeperConfig.Permission;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code zookeeper} section's security keys (issue 13): each key, the environment, and bad input. */
class ZooKeeperSectionTest {
  @TempDir static Path certs;

  @BeforeAll
  static void makeCertificates() throws Exception {
    TestCertificates.make(certs);
  }

  private static ZooKeeperConfig section(String yaml) throws Exception {
    return ZooKeeperSection.fromTree(PatroniYaml.parse("zookeeper:\n" + yaml.indent(2)));
  }

  private static String at(String file) {
    return certs.resolve(file).toString();
  }

  private static String tlsSection(String cacert, String cert, String key) {
    return "hosts: [127.0.0.1:2281]\nuse_ssl: true\ncacert: " + at(cacert) + "\ncert: " + at(cert) + "\nkey: "
        + at(key) + "\n";
  }

  private static void fails(String yaml, String message) {
    assertThatThrownBy(() -> section(yaml)).isInstanceOf(ConfigException.class).hasMessage(message);
  }

  @Test
  void hostsAloneMeanPlainOpenConnections() throws Exception {
    ZooKeeperConfig zk = section("hosts: zk1:2181,zk2");

    assertThat(zk.hosts()).containsExactly("zk1:2181", "zk2:2181");
    assertThat(zk.tls()).isNull();
    assertThat(zk.authData()).isEmpty();
    assertThat(zk.acls()).isEmpty();
  }

  @Test
  void everyTlsKeyIsRead() throws Exception {
    ZooKeeperConfig zk = section(tlsSection("ca.crt", "member.crt", "member-enc.key")
        + "key_password: " + TestCertificates.KEY_PASSWORD + "\nverify: true\n");

    assertThat(zk.tls()).isEqualTo(new ZooKeeperConfig.Tls(certs.resolve("ca.crt"), certs.resolve("member.crt"),
        certs.resolve("member-enc.key"), TestCertificates.KEY_PASSWORD));
  }

  @Test
  void keysInPkcs1AndSec1FormAreRead() throws Exception {
    assertThat(section(tlsSection("ca.crt", "member.crt", "member-rsa.key")).tls().key())
        .isEqualTo(certs.resolve("member-rsa.key"));
    assertThat(section(tlsSection("ca.crt", "ec.crt", "ec.key")).tls().key()).isEqualTo(certs.resolve("ec.key"));
  }

  @Test
  void aCertificateFileHoldingItsKeyNeedsNoKey() throws Exception {
    ZooKeeperConfig zk = section("hosts: [h]\nuse_ssl: true\ncacert: " + at("ca.crt") + "\ncert: "
        + at("server.pem") + "\n");

    assertThat(zk.tls().key()).isEqualTo(certs.resolve("server.pem"));
  }

  @Test
  void withoutCacertTheJvmsCasAreUsed() throws Exception {
    // Patroni (kazoo) loads the system's default CAs then; pgha the JVM's
    ZooKeeperConfig zk = section("hosts: [h]\nuse_ssl: true\n");

    assertThat(zk.tls()).isEqualTo(new ZooKeeperConfig.Tls(null, null, null, null));
  }

  @Test
  void useSslOffIgnoresTheOtherTlsKeysAsPatroniDoes() throws Exception {
    ZooKeeperConfig zk = section("hosts: [h]\nuse_ssl: false\ncacert: /nowhere/ca.crt\nverify: false\n");

    assertThat(zk.tls()).isNull();
  }

  @Test
  void badTlsInputIsOneLineNamingTheKey() throws Exception {
    fails("hosts: [h]\nuse_ssl: true\ncacert: /nowhere/ca.crt\n", "zookeeper.cacert: /nowhere/ca.crt: no such file");
    fails(tlsSection("ca.crt", "missing.crt", "member.key"),
        "zookeeper.cert: " + at("missing.crt") + ": no such file");
    fails(tlsSection("ca.crt", "member.crt", "ca.crt"),
        "zookeeper.key: " + at("ca.crt") + ": no PEM private key in the file");
    fails(tlsSection("ca.crt", "member.crt", "intruder.key"),
        "zookeeper.key: " + at("intruder.key") + ": does not match the certificate CN=member,O=pgha");
    fails(tlsSection("ca.crt", "member.crt", "member-enc.key"),
        "zookeeper.key: " + at("member-enc.key") + ": the key is encrypted and zookeeper.key_password is not set");
    fails(tlsSection("ca.crt", "member.crt", "member-enc.key") + "key_password: wrong\n",
        "zookeeper.key_password: cannot decrypt " + at("member-enc.key") + " (wrong password?)");
    fails("hosts: [h]\nuse_ssl: true\ncert: " + at("member.crt") + "\n",
        "zookeeper.key: required with zookeeper.cert (" + at("member.crt") + " holds no private key)");
    fails("hosts: [h]\nuse_ssl: true\nkey: " + at("member.key") + "\n", "zookeeper.cert: required with zookeeper.key");
    fails("hosts: [h]\nuse_ssl: true\ncacert: " + at("member.key") + "\n",
        "zookeeper.cacert: " + at("member.key") + ": no PEM certificate in the file");
    fails("hosts: [h]\nuse_ssl: true\nverify: false\n", "zookeeper.verify: false is not supported: pgha always "
        + "checks the servers' certificate; set zookeeper.cacert to the CA that signed it");
    fails("hosts: [h]\nuse_ssl: maybe\n", "zookeeper.use_ssl: must be true or false, got 'maybe'");
  }

  @Test
  void anUnreadableKeyIsNamed() throws Exception {
    Path dir = Files.createDirectories(certs.resolve("a-directory.key"));
    assertThatThrownBy(() -> section(tlsSection("ca.crt", "member.crt", "a-directory.key")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("zookeeper.key: " + dir + ": cannot read: ");
  }

  @Test
  void authDataIsSchemeToCredential() throws Exception {
    ZooKeeperConfig zk = section("hosts: [h]\nauth_data: {digest: 'pgha:pw:with:colons'}\n");

    assertThat(zk.authData()).containsExactly(new ZooKeeperConfig.Auth("digest", "pgha:pw:with:colons"));
  }

  @Test
  void malformedAuthDataIsOneLine() {
    fails("hosts: [h]\nauth_data: 'pgha:pw'\n", "zookeeper.auth_data: must be a mapping, got 'pgha:pw'");
    fails("hosts: [h]\nauth_data: {digest: nocolon}\n", "zookeeper.auth_data.digest: must be user:password");
    fails("hosts: [h]\nauth_data: {digest: {user: x}}\n",
        "zookeeper.auth_data.digest: must be a single value, got a mapping");
    fails("hosts: [h]\nauth_data: {digest: ''}\n", "zookeeper.auth_data.digest: required: the credential for digest");
  }

  @Test
  void setAclsMapsPrincipalsAndPermissionsAsPatroni() throws Exception {
    String hash = ZooKeeperSection.digestId("pgha", "pw");
    ZooKeeperConfig zk = section("hosts: [h]\nset_acls:\n  'CN=member,O=pgha': [read, Write]\n  'digest:" + hash
        + "': [ALL]\n  'world:anyone': [READ]\n  'ip:127.0.0.1': [CREATE, READ, WRITE, DELETE, ADMIN]\n");

    assertThat(zk.acls()).containsExactly(
        new ZooKeeperConfig.Acl("x509", "CN=member,O=pgha", Set.of(Permission.READ, Permission.WRITE)),
        new ZooKeeperConfig.Acl("digest", hash, Set.of(Permission.ALL)),
        new ZooKeeperConfig.Acl("world", "anyone", Set.of(Permission.READ)),
        new ZooKeeperConfig.Acl("ip", "127.0.0.1", Set.of(Permission.CREATE, Permission.READ, Permission.WRITE,
            Permission.DELETE, Permission.ADMIN)));
  }

  @Test
  void digestIdIsZooKeepersUserColonBase64Sha1() throws Exception {
    // the server's own computation is the oracle
    for (String[] userPassword : new String[][] {{"super", "superpw"}, {"pgha", "p:w:ü"}}) {
      assertThat(ZooKeeperSection.digestId(userPassword[0], userPassword[1])).isEqualTo(
          DigestAuthenticationProvider.generateDigest(userPassword[0] + ":" + userPassword[1]));
    }
  }

  @Test
  void badSetAclsAreOneLine() {
    fails("hosts: [h]\nset_acls: {'world:anyone': [READ, FLY]}\n",
        "zookeeper.set_acls.world:anyone: unknown permission 'FLY': use CREATE, READ, WRITE, DELETE, ADMIN or ALL");
    fails("hosts: [h]\nset_acls: {'world:anyone': []}\n",
        "zookeeper.set_acls.world:anyone: no permissions: list some of CREATE, READ, WRITE, DELETE, ADMIN, ALL");
    fails("hosts: [h]\nset_acls: {'digest:pgha:pw': [ALL]}\n", "zookeeper.set_acls.digest:pgha:pw: 'pw' is not a "
        + "digest hash: a digest identity is digest:USER:base64(sha1(USER:PASSWORD)) (if that was the password: "
        + "digest:" + ZooKeeperSection.digestId("pgha", "pw") + ")");
    fails("hosts: [h]\nset_acls: {'digest:pgha': [ALL]}\n",
        "zookeeper.set_acls.digest:pgha: a digest identity is digest:USER:HASH, got 'digest:pgha'");
    fails("hosts: [h]\nset_acls: [READ]\n", "zookeeper.set_acls: must be a mapping, got a list");
  }

  @Test
  void ownIdentitiesAreRecognisedInSetAcls() throws Exception {
    String mine = "digest:" + ZooKeeperSection.digestId("pgha", "pw");
    assertThat(ZooKeeperSection.mayChangeOwnKeys(section(
        "hosts: [h]\nauth_data: {digest: 'pgha:pw'}\nset_acls: {'" + mine + "': [ALL]}\n"))).isTrue();
    assertThat(ZooKeeperSection.mayChangeOwnKeys(section(
        "hosts: [h]\nauth_data: {digest: 'pgha:other'}\nset_acls: {'" + mine + "': [ALL]}\n"))).isFalse();
    assertThat(ZooKeeperSection.mayChangeOwnKeys(section(tlsSection("ca.crt", "member.crt", "member.key")
        + "set_acls: {'CN=member,O=pgha': [CREATE, READ, WRITE, DELETE]}\n"))).isTrue();
    assertThat(ZooKeeperSection.mayChangeOwnKeys(section(tlsSection("ca.crt", "member.crt", "member.key")
        + "set_acls: {'CN=member,O=pgha': [READ, WRITE]}\n"))).isFalse();
  }

  @Test
  void thePatroniZooKeeperVariablesAreRead() throws Exception {
    String hash = ZooKeeperSection.digestId("pgha", "pw");
    Path file = certs.resolve("pgha.yml");
    Files.writeString(file, """
        scope: batman
        name: pg1
        restapi: {listen: 0.0.0.0:8008, connect_address: 10.0.0.1:8008}
        postgresql: {listen: 0.0.0.0:5432, connect_address: 10.0.0.1:5432, data_dir: /var/lib/pg/data}
        """);
    PghaConfig config = ConfigLoader.load(file, Map.of(
        "PATRONI_ZOOKEEPER_HOSTS", "'127.0.0.1:2281'",
        "PATRONI_ZOOKEEPER_USE_SSL", "true",
        "PATRONI_ZOOKEEPER_CACERT", at("ca.crt"),
        "PATRONI_ZOOKEEPER_CERT", at("member.crt"),
        "PATRONI_ZOOKEEPER_KEY", at("member-enc.key"),
        "PATRONI_ZOOKEEPER_KEY_PASSWORD", TestCertificates.KEY_PASSWORD,
        "PATRONI_ZOOKEEPER_VERIFY", "on",
        "PATRONI_ZOOKEEPER_AUTH_DATA", "digest: 'pgha:pw'",
        "PATRONI_ZOOKEEPER_SET_ACLS", "{'digest:" + hash + "': [ALL], 'world:anyone': [READ]}"),
        configured -> Path.of("/opt/fake-pg/bin"));

    ZooKeeperConfig zk = config.zookeeper();
    assertThat(zk.hosts()).containsExactly("127.0.0.1:2281");
    assertThat(zk.tls()).isEqualTo(new ZooKeeperConfig.Tls(certs.resolve("ca.crt"), certs.resolve("member.crt"),
        certs.resolve("member-enc.key"), TestCertificates.KEY_PASSWORD));
    assertThat(zk.authData()).containsExactly(new ZooKeeperConfig.Auth("digest", "pgha:pw"));
    assertThat(zk.acls()).containsExactly(new ZooKeeperConfig.Acl("digest", hash, Set.of(Permission.ALL)),
        new ZooKeeperConfig.Acl("world", "anyone", Set.of(Permission.READ)));
  }

  @Test
  void useSslFromTheEnvironmentIsABooleanNotPatronisAnyText() throws Exception {
    // Patroni keeps PATRONI_ZOOKEEPER_USE_SSL a string, so "false" would turn TLS on there; here it means off
    assertThat(ZooKeeperSection.fromTree(ConfigLoader.rawTree(null, Map.of("PATRONI_ZOOKEEPER_HOSTS", "h",
        "PATRONI_ZOOKEEPER_USE_SSL", "false"))).tls()).isNull();
  }
}
