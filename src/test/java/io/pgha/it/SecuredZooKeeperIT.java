package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.config.TestCertificates;
import io.pgha.config.ZooKeeperConfig;
import io.pgha.config.ZooKeeperSection;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ZkClients;
import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.RunAs;
import io.pgha.launch.ZooKeeperProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A secured ZooKeeper (issue 13, part 5): {@code pgha zookeeper} in its own process serves TLS only and requires
 * client certificates; two members (real PostgreSQL) connect with Patroni's {@code use_ssl}, {@code cacert},
 * {@code cert}, {@code key} (an encrypted PKCS#8 key with {@code key_password}), {@code auth_data} (digest) and
 * {@code set_acls} (their digest identity may do everything, anyone may read). The cluster bootstraps and fails over;
 * a plain client cannot connect; a TLS client without the credentials, or with a wrong password, reads but cannot
 * change the leader or config key; pghactl list works with the members' file, and with the wrong CA it fails in one
 * line naming the TLS failure.
 */
@Tag("integration")
class SecuredZooKeeperIT {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Duration FORM_TIMEOUT = Duration.ofSeconds(180);

  @Test
  void aClusterOnATlsAndDigestSecuredEnsemble() throws Exception {
    Path tmp = Files.createDirectories(Path.of(System.getProperty("pgha.it.tmp", "/tmp")));
    Path certs = Files.createTempDirectory(tmp, "pgha-it-zksec-certs-");
    TestCertificates.make(certs);
    try (var files = Files.list(certs)) {
      for (Path f : files.toList()) {
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(
            f.toString().endsWith(".key") ? "rw-------" : "rw-r--r--"));
      }
    }
    RunAs.ownedDirectory(certs);
    Path baseDir = Files.createTempDirectory(tmp, "pgha-it-zksec-");
    int tlsPort = FreePorts.next();
    String digest = "digest:" + ZooKeeperSection.digestId("pgha", "pgha-zk-pass");

    try (ZooKeeperProcess zk = ZooKeeperProcess.start(TestCluster.jar(), FreePorts.next(),
            tmp.resolve(baseDir.getFileName() + "-zk").resolve("data"),
            tmp.resolve(baseDir.getFileName() + "-zk").resolve("zookeeper.log"),
            List.of("--tls-port", Integer.toString(tlsPort), "--tls-only",
                "--tls-keystore", certs.resolve("server.pem").toString(),
                "--tls-truststore", certs.resolve("ca.crt").toString(), "--tls-client-auth", "need"));
        LocalCluster cluster = LocalCluster.create(baseDir, TestCluster.jar(), "zksec", "m", 2,
            "127.0.0.1:" + tlsPort, TestCluster.TIMING)) {
      for (MemberConfig member : cluster.members()) {
        ObjectNode yaml = (ObjectNode) YAML.readTree(member.configFile().toFile());
        ObjectNode section = (ObjectNode) yaml.get("zookeeper");
        section.put("use_ssl", true);
        section.put("cacert", certs.resolve("ca.crt").toString());
        section.put("cert", certs.resolve("member.crt").toString());
        section.put("key", certs.resolve("member-enc.key").toString());
        section.put("key_password", TestCertificates.KEY_PASSWORD);
        section.put("verify", true);
        section.putObject("auth_data").put("digest", "pgha:pgha-zk-pass");
        ObjectNode acls = section.putObject("set_acls");
        acls.putArray(digest).add("ALL");
        acls.putArray("world:anyone").add("READ");
        YAML.writeValue(member.configFile().toFile(), yaml);
      }
      Path memberFile = cluster.members().get(0).configFile();
      ZooKeeperConfig members = ZooKeeperSection.fromTree(YAML.readTree(memberFile.toFile()));
      cluster.pollWith(members);
      cluster.startAll(Map.of());

      ClusterSnapshot formed = cluster.await(LocalCluster.healthy(1), FORM_TIMEOUT, true)
          .orElseThrow(() -> new AssertionError("no leader and running replica over TLS after " + FORM_TIMEOUT
              + "\n" + cluster.logTails(40)));
      String leader = formed.leader();
      String base = cluster.basePath();

      // every key carries set_acls
      List<ACL> expectedAcl = List.of(new ACL(ZooDefs.Perms.ALL, new Id("digest", digest.substring(7))),
          new ACL(ZooDefs.Perms.READ, new Id("world", "anyone")));
      try (CuratorFramework admin = connect(members)) {
        for (String key : List.of("", "/leader", "/config", "/initialize", "/members/" + leader)) {
          assertThat(admin.getACL().forPath(base + key)).as(base + key).containsExactlyInAnyOrderElementsOf(
              expectedAcl);
        }
      }

      // a client without TLS does not get a session
      try (CuratorFramework plain = CuratorFrameworkFactory.newClient("127.0.0.1:" + tlsPort, 4_000, 2_000,
          new RetryOneTime(200))) {
        plain.start();
        assertThat(plain.blockUntilConnected(5, TimeUnit.SECONDS)).as("plain client connected").isFalse();
      }

      // TLS with another certificate of the CA, but without the digest credentials (or with a wrong password)
      ZooKeeperConfig.Tls intruderTls = new ZooKeeperConfig.Tls(certs.resolve("ca.crt"),
          certs.resolve("intruder.crt"), certs.resolve("intruder.key"), null);
      for (List<ZooKeeperConfig.Auth> auth : List.of(List.<ZooKeeperConfig.Auth>of(),
          List.of(new ZooKeeperConfig.Auth("digest", "pgha:wrong-pass")))) {
        ZooKeeperConfig intruder = new ZooKeeperConfig(members.hosts(), intruderTls, auth, List.of());
        try (CuratorFramework client = connect(intruder)) {
          assertThat(new String(client.getData().forPath(base + "/leader"), StandardCharsets.UTF_8))
              .as("anyone may read").isEqualTo(leader);
          assertThatThrownBy(() -> client.setData().forPath(base + "/leader", "intruder".getBytes()))
              .as("set leader, auth %s", auth).isInstanceOf(KeeperException.NoAuthException.class);
          assertThatThrownBy(() -> client.delete().forPath(base + "/leader"))
              .as("delete leader, auth %s", auth).isInstanceOf(KeeperException.NoAuthException.class);
          assertThatThrownBy(() -> client.setData().forPath(base + "/config", "{}".getBytes()))
              .as("set config, auth %s", auth).isInstanceOf(KeeperException.NoAuthException.class);
          assertThatThrownBy(() -> client.create().forPath(base + "/failover", "{}".getBytes()))
              .as("create failover, auth %s", auth).isInstanceOf(KeeperException.NoAuthException.class);
        }
      }

      // pghactl with the members' file
      Cli.Result list = Cli.pghactl(memberFile, Map.of(), "", "list");
      assertThat(list.exitCode()).as(list.toString()).isZero();
      assertThat(list.out()).as(list.toString()).contains(leader).contains("Leader").contains("Replica");
      // and with the wrong CA: one line saying why
      ObjectNode wrongCa = (ObjectNode) YAML.readTree(memberFile.toFile());
      ((ObjectNode) wrongCa.get("zookeeper")).put("cacert", certs.resolve("other-ca.crt").toString());
      Path wrongCaFile = certs.resolve("wrong-ca.yml");
      YAML.writeValue(wrongCaFile.toFile(), wrongCa);
      Cli.Result refused = Cli.pghactl(wrongCaFile, Map.of(), "", "list");
      assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
      assertThat(refused.err().strip().lines().count()).as(refused.toString()).isEqualTo(1);
      assertThat(refused.err()).as(refused.toString()).contains("TLS handshake with 127.0.0.1:" + tlsPort + " failed");

      // failover over TLS: the leader's machine dies, the replica takes the key (created with set_acls too)
      cluster.agent(leader).orElseThrow().sigkill();
      cluster.postmasterPid(leader).ifPresent(pid -> LocalCluster.signal(pid, "KILL"));
      ClusterSnapshot after = cluster.await(v -> v.leader() != null && !v.leader().equals(leader)
              && v.leaderMember().map(ClusterSnapshot.Member::isRunningPrimary).orElse(false),
          Duration.ofSeconds(90), false)
          .orElseThrow(() -> new AssertionError("no failover over TLS\n" + cluster.logTails(40)));
      try (CuratorFramework admin = connect(members)) {
        assertThat(admin.getACL().forPath(base + "/leader")).containsExactlyInAnyOrderElementsOf(expectedAcl);
      }
      assertThat(after.leader()).isNotEqualTo(leader);
    } finally {
      LocalCluster.deleteRecursively(certs);
    }
  }

  private static CuratorFramework connect(ZooKeeperConfig config) throws InterruptedException {
    CuratorFramework client = ZkClients.builder(config).sessionTimeoutMs(10_000).connectionTimeoutMs(5_000)
        .retryPolicy(new RetryOneTime(200)).build();
    client.start();
    if (!client.blockUntilConnected(20, TimeUnit.SECONDS)) {
      client.close();
      throw new AssertionError("no TLS session with " + config.connectString());
    }
    return client;
  }
}
