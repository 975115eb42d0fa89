package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.AgentProcess;
import io.pgha.launch.FreePorts;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.RunAs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Three empty members bootstrap one cluster: one leader, two streaming replicas, visible to patronictl. */
@Tag("integration")
class BootstrapIT {

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void threeMembersFormOneLeaderAndTwoStreamingReplicas() throws Exception {
    TestCluster cluster = clusters.start("bootstrap", 3);

    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    List<String> replicas = cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));

    assertThat(replicas).hasSize(2).doesNotContain(leader);
    ClusterSnapshot view = cluster.snapshot().orElseThrow();
    assertThat(view.initialize()).as("initialize holds the system identifier").matches("\\d{10,}");
    assertThat(view.members()).extracting(ClusterSnapshot.Member::name).containsExactlyInAnyOrder("m0", "m1", "m2");
    assertThat(cluster.sql(leader, "SELECT pg_is_in_recovery() AS r").get(0).get("r")).isEqualTo(false);
    for (String replica : replicas) {
      assertThat(cluster.sql(replica, "SELECT pg_is_in_recovery() AS r").get(0).get("r")).isEqualTo(true);
      JsonNode status = cluster.patroniStatus(replica).orElseThrow();
      assertThat(status.path("role").asText()).isEqualTo("replica");
      assertThat(status.path("state").asText()).isEqualTo("running");
      if (status.has("replication_state")) {
        assertThat(status.get("replication_state").asText()).isEqualTo("streaming");
      }
    }
    assertThat(cluster.patroniStatus(leader).orElseThrow().path("role").asText()).isIn("primary", "master");

    // a write on the leader reaches both replicas
    cluster.createWritesTable(leader);
    long marker = cluster.writeMarker(leader).orElseThrow();
    for (String replica : replicas) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!cluster.hasMarker(replica, marker) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertThat(cluster.hasMarker(replica, marker)).as("write replicated to " + replica).isTrue();
    }

    // §3.1: a second agent with the name of a running member refuses to start, and changes nothing
    MemberConfig m0 = cluster.member("m0");
    Path twinBase = cluster.baseDir().resolve("twin");
    MemberConfig twin = new MemberConfig(m0.scope(), "m0", m0.zookeeperHosts(), FreePorts.next(), FreePorts.next(),
        twinBase.resolve("m0"), m0.binDir(), m0.timing());
    Files.createDirectories(twin.dir());
    Files.writeString(twin.configFile(), twin.toYaml(), StandardCharsets.UTF_8);
    RunAs.ownedDirectory(twinBase);
    try (AgentProcess agent = AgentProcess.start(RunAs.shareReadable(TestCluster.jar(), twinBase), twin.configFile(),
        twin.logFile(), Map.of())) {
      assertThat(agent.waitFor(Duration.ofSeconds(60))).as("the twin agent exits").isTrue();
      assertThat(agent.exitCode()).isNotZero();
      assertThat(agent.logTail(20)).contains("already a member named m0 running");
    }
    assertThat(Files.exists(twin.dataDir())).as("the twin touched no data directory").isFalse();
    assertThat(cluster.snapshot().orElseThrow().member("m0").orElseThrow().state()).isEqualTo("running");
  }

  @Test
  void patronictlListsTheCluster() throws Exception {
    assumeTrue(onPath("patronictl"), "patronictl (Patroni 3.0.2) is not installed: skipping the interop check");
    TestCluster cluster = clusters.start("ctl", 3);
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));

    Path config = cluster.member("m0").configFile();
    Process patronictl = new ProcessBuilder("patronictl", "-c", config.toString(), "list", "-f", "json")
        .redirectErrorStream(false).start();
    patronictl.getOutputStream().close();
    String output = new String(patronictl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String errors = new String(patronictl.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(patronictl.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(patronictl.exitValue()).as("patronictl exit code; stderr: " + errors).isZero();

    JsonNode rows = new ObjectMapper().readTree(output);
    List<String> roles = new ArrayList<>();
    rows.forEach(row -> roles.add(row.path("Role").asText()));
    assertThat(rows).hasSize(3);
    assertThat(roles).containsExactlyInAnyOrder("Leader", "Replica", "Replica");
    rows.forEach(row -> assertThat(row.path("State").asText()).isEqualTo("running"));
    rows.forEach(row -> assertThat(row.path("Host").asText())
        .isEqualTo("127.0.0.1:" + cluster.member(row.path("Member").asText()).postgresPort()));
    assertThat(rows.findValuesAsText("Member")).contains(leader);
  }

  private static boolean onPath(String command) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }
}
