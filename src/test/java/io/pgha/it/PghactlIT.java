package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * pghactl against a live three-member pgha cluster (real ZooKeeper, PostgreSQL 15): every command, prompts answered
 * through standard input, the {@code --force} paths, each output format; then Debian's patronictl 3.0.2 operating
 * the same cluster (list, switchover, edit-config, pause/resume, restart, reinit), skipped when it is not installed.
 * One cluster for the whole class; the tests run in order and each leaves the cluster healthy.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PghactlIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SCOPE = "ctl";
  private static final Duration FORMED = Duration.ofSeconds(120);
  private static final Duration SETTLED = Duration.ofSeconds(60);
  private static final Map<String, String> PASSWORD = Map.of("PGPASSWORD", "postgres-pass");

  private TestCluster cluster;
  private Path config;
  private boolean failed;

  @RegisterExtension
  final TestWatcher watcher = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      failed = true;
    }
  };

  @BeforeAll
  void start() throws Exception {
    cluster = TestCluster.start(SCOPE, 3);
    config = cluster.member("m0").configFile();
    cluster.awaitLeader(FORMED);
    cluster.awaitStreamingReplicas(2, FORMED);
  }

  @AfterAll
  void stop() {
    if (cluster == null) {
      return;
    }
    if (failed) {
      System.out.println("===== PghactlIT failed; cluster in " + cluster.baseDir());
      System.out.print(cluster.table());
      System.out.print(cluster.logTails(150));
    }
    cluster.close();
    if (!failed) {
      cluster.deleteFiles();
    }
  }

  private Cli.Result ctl(String stdin, String... args) {
    return Cli.pghactl(config, PASSWORD, stdin, args);
  }

  private Cli.Result ok(Cli.Result result) {
    assertThat(result.exitCode()).as(result.toString()).isZero();
    return result;
  }

  private String leader() {
    return cluster.awaitLeader(SETTLED);
  }

  private String replica() {
    return cluster.awaitStreamingReplicas(2, SETTLED).get(0);
  }

  private void settle() {
    cluster.awaitLeader(SETTLED);
    cluster.awaitStreamingReplicas(2, SETTLED);
  }

  private void awaitSnapshot(Predicate<ClusterSnapshot> condition, String what) {
    long deadline = System.nanoTime() + SETTLED.toNanos();
    while (System.nanoTime() < deadline) {
      if (cluster.snapshot().map(condition::test).orElse(false)) {
        return;
      }
      TestCluster.sleep(Duration.ofMillis(200));
    }
    throw new AssertionError("not seen within " + SETTLED + ": " + what + "\n" + cluster.table());
  }

  private static String inAnHour() {
    return OffsetDateTime.now(ZoneOffset.UTC).plusHours(1).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  @Test
  @Order(1)
  void readsTheClusterInEveryFormat() throws Exception {
    String leader = leader();
    Cli.Result pretty = ok(ctl("", "list"));
    assertThat(pretty.out()).startsWith("+ Cluster: ctl ").contains("| Leader  |");
    assertThat(pretty.out().lines().filter(l -> l.contains("| Replica |"))).hasSize(2);

    List<String> tsv = ok(ctl("", "list", "-f", "tsv")).out().lines().toList();
    assertThat(tsv).hasSize(4);
    assertThat(tsv.get(0)).isEqualTo("Cluster\tMember\tHost\tRole\tState\tTL\tLag in MB");

    JsonNode json = JSON.readTree(ok(ctl("", "list", SCOPE, "--format", "json")).out());
    assertThat(json.size()).isEqualTo(3);
    assertThat(json.findValuesAsText("Role")).containsExactlyInAnyOrder("Leader", "Replica", "Replica");
    assertThat(json.findValuesAsText("Host"))
        .contains("127.0.0.1:" + cluster.member(leader).postgresPort());

    assertThat(ok(ctl("", "list", "-f", "yaml")).out()).startsWith("- Cluster: ctl\n");
    List<String> topology = ok(ctl("", "topology")).out().lines().toList();
    assertThat(topology.get(3)).startsWith("| " + leader + " ");
    assertThat(topology.get(4)).startsWith("| + m");
    assertThat(ok(ctl("", "list", "-e")).out()).contains("| Pending restart | Scheduled restart | Tags |");
    assertThat(ok(ctl("", "show-config")).out()).contains("ttl: 10\n").contains("loop_wait: 2\n");
    assertThat(ok(ctl("", "history")).out()).contains("| TL |").contains("| New Leader |");
    assertThat(ok(ctl("", "dsn")).out()).isEqualTo("host=127.0.0.1 port=" + cluster.member(leader).postgresPort()
        + "\n");
    assertThat(ok(ctl("", "dsn", "-m", "m2")).out())
        .isEqualTo("host=127.0.0.1 port=" + cluster.member("m2").postgresPort() + "\n");
    List<String> versions = ok(ctl("", "version", SCOPE)).out().lines().toList();
    assertThat(versions).hasSize(5);
    assertThat(versions.subList(2, 5)).allMatch(l -> l.matches("m\\d: Patroni \\S+ PostgreSQL \\d+\\.\\d+"));
  }

  @Test
  @Order(2)
  void queriesThroughTheVertxClient() throws Exception {
    settle();
    assertThat(ok(ctl("", "query", "-U", "postgres", "-c", "SELECT 1 AS one, 'x' AS t")).out())
        .isEqualTo("one\tt\n1\tx\n");
    assertThat(ok(ctl("", "query", "-U", "postgres", "-r", "replica", "--format", "json", "-c",
        "SELECT pg_is_in_recovery() AS r")).out()).isEqualTo("[{\"r\": true}]\n");
    assertThat(ok(ctl("", "query", "-U", "postgres", "-r", "primary", "--delimiter", ",", "-c",
        "SELECT 1 AS a, pg_is_in_recovery() AS b")).out()).isEqualTo("a,b\n1,False\n");
    Path sql = Files.writeString(cluster.baseDir().resolve("q.sql"), "SELECT 2 AS two");
    assertThat(ok(ctl("", "query", "-U", "postgres", "-m", "m1", "-f", sql.toString(), "--format", "yaml")).out())
        .isEqualTo("- two: 2\n\n");
    Cli.Result error = ctl("", "query", "-U", "postgres", "-c", "SELECT * FROM nosuch");
    assertThat(error.exitCode()).isEqualTo(1);
    assertThat(error.out()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\tERROR, SQLSTATE: 42P01\n");
    // no PGPASSWORD, no .pgpass: the password is asked for once the server wants one
    Cli.Result prompted = Cli.pghactl(config, Map.of(), "postgres-pass\n", "query", "-U", "postgres", "-c",
        "SELECT 3 AS three");
    assertThat(prompted.exitCode()).as(prompted.toString()).isZero();
    assertThat(prompted.out()).isEqualTo("Password: \nthree\n3\n");
  }

  @Test
  @Order(3)
  void editsTheConfigurationAndPauses() throws Exception {
    settle();
    Cli.Result declined = ok(ctl("n\n", "edit-config", "-s", "maximum_lag_on_failover=2097152"));
    assertThat(declined.out()).contains("-maximum_lag_on_failover: 1048576\n+maximum_lag_on_failover: 2097152\n")
        .endsWith("Apply these changes? [y/N]: ");
    Cli.Result applied = ok(ctl("y\n", "edit-config", "-s", "maximum_lag_on_failover=2097152",
        "-p", "work_mem=8MB"));
    assertThat(applied.out()).endsWith("Apply these changes? [y/N]: Configuration changed\n");
    ClusterSnapshot snapshot = cluster.snapshot().orElseThrow();
    assertThat(snapshot.config().path("maximum_lag_on_failover").asLong()).isEqualTo(2097152);
    assertThat(snapshot.config().at("/postgresql/parameters/work_mem").asText()).isEqualTo("8MB");
    assertThat(ok(ctl("", "edit-config", "--force", "-p", "work_mem=null")).out())
        .endsWith("Configuration changed\n");
    assertThat(ok(ctl("", "edit-config", "--force", "-s", "maximum_lag_on_failover=2097152")).out())
        .isEqualTo("Not changed\n");
    Cli.Result bad = ctl("", "edit-config", "--force", "-s", "ttl=[1");
    assertThat(bad.exitCode()).isEqualTo(1);
    assertThat(bad.err()).startsWith("Error: Invalid parameter setting ttl=[1: invalid YAML");

    assertThat(ok(ctl("", "pause", "--wait")).out()).isEqualTo("'pause' request sent, waiting until it is "
        + "recognized by all nodes\nSuccess: cluster management is paused\n");
    assertThat(ok(ctl("", "list")).out()).endsWith(" Maintenance mode: on\n");
    assertThat(ctl("", "pause").err()).isEqualTo("Error: Cluster is already paused\n");
    assertThat(ok(ctl("", "resume", "--wait")).out()).endsWith("Success: cluster management is resumed\n");
    assertThat(ok(ctl("", "list")).out()).doesNotContain("Maintenance mode");
  }

  @Test
  @Order(4)
  void restartsReloadsAndReinitializes() {
    settle();
    Cli.Result reload = ok(ctl("", "reload", SCOPE, "--force"));
    assertThat(reload.out().lines().filter(l -> l.matches(
        "Reload request received for member m\\d and will be processed within 2 seconds"))).hasSize(3);

    String replica = replica();
    Cli.Result restart = ok(ctl("\ny\n\n", "restart", SCOPE, replica));
    assertThat(restart.out()).contains("When should the restart take place (e.g. ")
        .contains(")  [now]: Are you sure you want to restart members " + replica + "? [y/N]: Restart if the "
            + "PostgreSQL version is less than provided (e.g. 9.5.2)  []: Success: restart on member " + replica
            + "\n");
    settle();

    String when = inAnHour();
    assertThat(ok(ctl("", "restart", SCOPE, replica, "--scheduled", when, "--force")).out())
        .endsWith("Success: restart scheduled on member " + replica + "\n");
    awaitSnapshot(v -> v.member(replica).map(m -> m.data().has("scheduled_restart")).orElse(false),
        replica + " publishes its scheduled restart");
    assertThat(ok(ctl("", "list")).out()).contains("| Scheduled restart");
    assertThat(ok(ctl("", "flush", SCOPE, replica, "restart", "--force")).out())
        .endsWith("Success: flush scheduled restart for member " + replica + "\n");

    Cli.Result reinit = ok(ctl("", "reinit", SCOPE, replica, "--force", "--wait"));
    assertThat(reinit.out()).contains("Success: reinitialize for member " + replica + "\n")
        .contains("Reinitialize is completed on: " + replica + "\n");
    settle();
  }

  @Test
  @Order(5)
  void switchesOverAndFailsOver() {
    String leader = leader();
    String candidate = replica();
    Cli.Result asked = ok(ctl("\n" + candidate + "\n\ny\n", "switchover"));
    assertThat(asked.out()).startsWith("Current cluster topology\n")
        .contains("Primary [" + leader + "]: Candidate ")
        .contains("Are you sure you want to switchover cluster ctl, demoting current leader " + leader + "? [y/N]: ")
        .contains("Successfully switched over to \"" + candidate + "\"");
    assertThat(cluster.awaitLeaderOtherThan(leader, SETTLED)).isEqualTo(candidate);
    settle();

    assertThat(ok(ctl("", "switchover", "--force", "--candidate", leader, "--scheduled", inAnHour())).out())
        .contains("Switchover scheduled\n");
    assertThat(ok(ctl("", "list")).out()).contains(" Switchover scheduled at: ").contains("to: " + leader);
    assertThat(ok(ctl("", "flush", SCOPE, "switchover")).out()).isEqualTo("Success: scheduled switchover deleted\n");

    String target = cluster.awaitStreamingReplicas(2, SETTLED).get(1);
    assertThat(ok(ctl("", "failover", "--candidate", target, "--force")).out())
        .contains("Successfully failed over to \"" + target + "\"");
    assertThat(cluster.awaitLeaderOtherThan(candidate, SETTLED)).isEqualTo(target);
    settle();
  }

  @Test
  @Order(6)
  void refusesBadInputWithOneLine() {
    settle();
    String leader = leader();
    Cli.Result nobody = ctl("", "switchover", "--force", "--candidate", "nobody");
    assertThat(nobody.exitCode()).isEqualTo(1);
    assertThat(nobody.err()).isEqualTo("Error: Member nobody does not exist in cluster ctl or is tagged as "
        + "nofailover\n");
    assertThat(ctl("", "restart", "nosuch", "--force").err())
        .isEqualTo("Error: nosuch cluster doesn't have any members\n");
    assertThat(ctl("", "restart", SCOPE, "m9", "--force").err()).isEqualTo("Error: m9 is not a member of cluster\n");
    int deadPort = FreePorts.next();
    Cli.Result unreachable = ctl("", "-d", "zookeeper://127.0.0.1:" + deadPort, "list");
    assertThat(unreachable.exitCode()).isEqualTo(1);
    assertThat(unreachable.err()).isEqualTo("Error: cannot reach ZooKeeper at 127.0.0.1:" + deadPort + "\n");
    assertThat(cluster.leader()).contains(leader);
  }

  @Test
  @Order(7)
  void scaffoldsConfiguresAndRemovesAnotherCluster() throws Exception {
    Path file = cluster.baseDir().resolve("pghactl.yaml");
    assertThat(ok(Cli.pghactl(null, Map.of(), "", "configure", "-c", file.toString(), "-d",
        "zookeeper://" + cluster.zookeeper().connectString() + "/service", "-n", "/service/", "--scope", "spare",
        "--username", "")).out()).isEqualTo("Configuration written to " + file + "\n");
    assertThat(ok(Cli.pghactl(file, Map.of(), "", "scaffold", "spare", "--sysid", "7000000000000000001")).out())
        .isEqualTo("Cluster spare has been created successfully\n");
    assertThat(ok(Cli.pghactl(file, Map.of(), "", "list")).out()).contains("| spare  | 127.0.0.1 | Leader |");
    Cli.Result removed = ok(Cli.pghactl(file, Map.of(), "spare\nYes I am aware\nspare\n", "remove", "spare"));
    assertThat(removed.out()).endsWith("Please specify the leader name to continue: ");
    assertThat(Cli.pghactl(file, Map.of(), "", "list").out()).doesNotContain("spare  |");
    assertThat(cluster.leader()).isPresent(); // the pgha cluster beside it is untouched
  }

  @Test
  @Order(8)
  void debiansPatronictlOperatesThePghaCluster() {
    Optional<String> missing = Cli.missing(Cli.PATRONICTL);
    assumeTrue(missing.isEmpty(), () -> "skipping the patronictl cross test: " + missing.orElse(""));
    settle();
    Cli.Result list = Cli.patronictl(config, "", "list");
    assertThat(list.exitCode()).as(list.toString()).isZero();
    assertThat(list.out()).contains("| Leader  |").contains("| m0 ").contains("| m1 ").contains("| m2 ");

    String leader = leader();
    String candidate = replica();
    Cli.Result switchover = Cli.patronictl(config, "", "switchover", "--leader", leader, "--candidate", candidate,
        "--force");
    assertThat(switchover.out()).as(switchover.toString()).contains("Successfully switched over to \"" + candidate);
    assertThat(cluster.awaitLeaderOtherThan(leader, SETTLED)).isEqualTo(candidate);
    settle();

    Cli.Result edit = Cli.patronictl(config, "", "edit-config", "-s", "maximum_lag_on_failover=1048576", "--force");
    assertThat(edit.out()).as(edit.toString()).endsWith("Configuration changed\n");
    assertThat(cluster.snapshot().orElseThrow().config().path("maximum_lag_on_failover").asLong()).isEqualTo(1048576);

    Cli.Result pause = Cli.patronictl(config, "", "pause", "--wait");
    assertThat(pause.out()).as(pause.toString()).endsWith("Success: cluster management is paused\n");
    Cli.Result resume = Cli.patronictl(config, "", "resume", "--wait");
    assertThat(resume.out()).as(resume.toString()).endsWith("Success: cluster management is resumed\n");

    String replica = replica();
    Cli.Result restart = Cli.patronictl(config, "", "restart", SCOPE, replica, "--force");
    assertThat(restart.out()).as(restart.toString()).endsWith("Success: restart on member " + replica + "\n");
    settle();
    Cli.Result reinit = Cli.patronictl(config, "", "reinit", SCOPE, replica, "--force", "--wait");
    assertThat(reinit.out()).as(reinit.toString()).contains("Success: reinitialize for member " + replica)
        .contains("Reinitialize is completed on: " + replica);
    settle();
  }
}
