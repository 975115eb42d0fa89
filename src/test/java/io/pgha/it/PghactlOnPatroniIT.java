package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.AgentProcess;
import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.ZooKeeperProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The other direction: pghactl operating a cluster of the reference agent, Debian's Patroni 3.0.2 (three members on
 * loopback with the same configuration the pgha ITs use): list in two formats, show-config, dsn and a switchover.
 * Skipped, with the reason, when Patroni is not installed or cannot reach ZooKeeper (python3-kazoo missing).
 */
@Tag("integration")
class PghactlOnPatroniIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration FORMED = Duration.ofSeconds(180);
  private static final Duration SETTLED = Duration.ofSeconds(90);

  @Test
  void pghactlListsAndSwitchesOverAPatroniCluster() throws Exception {
    Optional<String> missing = Cli.missing(Cli.PATRONI);
    assumeTrue(missing.isEmpty(), () -> "skipping pghactl on Patroni: " + missing.orElse(""));
    Path jar = TestCluster.jar();
    // readable by the unprivileged user the agents run as
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "pgha-it-patroni-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    List<AgentProcess> agents = new ArrayList<>();
    boolean passed = false;
    try (ZooKeeperProcess zookeeper = ZooKeeperProcess.start(jar, FreePorts.next(), dir.resolve("zk"),
        dir.resolve("zk.log"))) {
      zookeeper.waitServing(Duration.ofSeconds(30));
      LocalCluster patroni = LocalCluster.create(dir.resolve("patroni"), jar, "reference", "pt", 3,
          zookeeper.connectString(), TestCluster.TIMING);
      try {
        for (MemberConfig member : patroni.members()) {
          agents.add(AgentProcess.start(List.of(Cli.PATRONI.toString(), member.configFile().toString()),
              member.configFile(), member.logFile(), Map.of()));
        }
        String leader = awaitHealthy(patroni, agents);
        Path config = patroni.member("pt0").configFile();

        Cli.Result list = Cli.pghactl(config, Map.of(), "", "list");
        assertThat(list.exitCode()).as(list.toString()).isZero();
        assertThat(list.out()).startsWith("+ Cluster: reference ").contains("| " + leader + " ")
            .contains("| Leader  |");
        assertThat(list.out().lines().filter(l -> l.contains("| Replica |") && l.contains("| running |")))
            .hasSize(2);
        JsonNode json = JSON.readTree(Cli.pghactl(config, Map.of(), "", "list", "-f", "json").out());
        assertThat(json.findValuesAsText("Role")).containsExactlyInAnyOrder("Leader", "Replica", "Replica");
        assertThat(Cli.pghactl(config, Map.of(), "", "show-config").out()).contains("ttl: 10\n");
        assertThat(Cli.pghactl(config, Map.of(), "", "dsn").out())
            .isEqualTo("host=127.0.0.1 port=" + patroni.member(leader).postgresPort() + "\n");

        String candidate = patroni.snapshot().orElseThrow().members().stream()
            .filter(ClusterSnapshot.Member::isRunningReplica).map(ClusterSnapshot.Member::name).findFirst()
            .orElseThrow();
        Cli.Result switchover = Cli.pghactl(config, Map.of(), "", "switchover", "--leader", leader, "--candidate",
            candidate, "--force");
        assertThat(switchover.exitCode()).as(switchover.toString()).isZero();
        assertThat(switchover.out()).contains("Successfully switched over to \"" + candidate + "\"");
        assertThat(patroni.await(v -> candidate.equals(v.leader())
                && v.leaderMember().map(ClusterSnapshot.Member::isRunningPrimary).orElse(false), SETTLED, false))
            .as("Patroni's new leader after pghactl switchover\n" + patroni.logTails(40)).isPresent();
        passed = true;
      } finally {
        agents.forEach(AgentProcess::close); // each Patroni stops its postgres
        if (!passed) {
          System.out.print(patroni.logTails(100));
        }
        patroni.close();
      }
    } finally {
      if (passed) {
        LocalCluster.deleteRecursively(dir);
      }
    }
  }

  /** The leader once it and two replicas run; fails at once when a Patroni process exits. */
  private static String awaitHealthy(LocalCluster patroni, List<AgentProcess> agents) {
    long deadline = System.nanoTime() + FORMED.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<String> leader = patroni.snapshot().filter(LocalCluster.healthy(2))
          .flatMap(ClusterSnapshot::leaderMember).map(ClusterSnapshot.Member::name);
      if (leader.isPresent()) {
        return leader.get();
      }
      if (agents.stream().anyMatch(a -> !a.isAlive())) {
        throw new AssertionError("a Patroni process exited\n" + patroni.logTails(40));
      }
      TestCluster.sleep(Duration.ofMillis(500));
    }
    throw new AssertionError("Patroni cluster not healthy after " + FORMED + "\n" + patroni.logTails(40));
  }
}
