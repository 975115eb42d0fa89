package io.pgha.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.pgha.launch.FreePorts;
import io.pgha.zk.EmbeddedZooKeeper;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every pghactl command end to end against a real (in-JVM) ZooKeeper holding a three-member cluster whose members'
 * REST APIs are stand-ins that record what they are asked and answer as Patroni does; prompts are answered through
 * standard input, the clock is fixed (2026-11-24 10:00 UTC) so outputs compare exactly.
 */
class CtlCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SCOPE = "gotham";
  private static final String BASE = "/service/" + SCOPE;
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-24T10:00:00Z"), ZoneOffset.UTC);
  private static final String NEXT_HOUR = "2026-11-24T11:00";

  @TempDir
  static Path dir;

  private static EmbeddedZooKeeper zookeeper;
  private static CuratorFramework client;
  private static final List<FakeMember> MEMBERS = new ArrayList<>();
  private static Path configFile;

  /** A member's REST API: answers by "METHOD /path", records every request. */
  static final class FakeMember {
    final String name;
    final HttpServer server;
    final Map<String, int[]> codes = new HashMap<>();
    final Map<String, String> bodies = new HashMap<>();
    final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    volatile String authorization;

    FakeMember(String name) throws IOException {
      this.name = name;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/", exchange -> {
        String key = exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath();
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        requests.add(key + (body.isEmpty() ? "" : " " + body));
        authorization = exchange.getRequestHeaders().getFirst("Authorization");
        int code = codes.getOrDefault(key, new int[] {200})[0];
        byte[] reply = bodies.getOrDefault(key, "").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(code, reply.length == 0 ? -1 : reply.length);
        exchange.getResponseBody().write(reply);
        exchange.close();
      });
      server.start();
    }

    void answer(String key, int code, String body) {
      codes.put(key, new int[] {code});
      bodies.put(key, body);
    }

    String apiUrl() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/patroni";
    }
  }

  record Result(int exitCode, String out, String err) {}

  @BeforeAll
  static void start() throws Exception {
    zookeeper = EmbeddedZooKeeper.start(FreePorts.next(), dir.resolve("zk"));
    client = CuratorFrameworkFactory.newClient(zookeeper.connectString(), new RetryOneTime(100));
    client.start();
    client.blockUntilConnected();
    for (String name : List.of("m0", "m1", "m2")) {
      MEMBERS.add(new FakeMember(name));
    }
    configFile = dir.resolve("ctl.yml");
    Files.writeString(configFile, "scope: " + SCOPE + "\nnamespace: /service/\nzookeeper:\n  hosts: ['"
        + zookeeper.connectString() + "']\nrestapi:\n  authentication:\n    username: admin\n    password: s3cret\n");
  }

  @AfterAll
  static void stop() {
    MEMBERS.forEach(m -> m.server.stop(0));
    if (client != null) {
      client.close();
    }
    if (zookeeper != null) {
      zookeeper.close();
    }
  }

  /** m0 leads on timeline 3; m1 and m2 stream; loop_wait 10. */
  @BeforeEach
  void cluster() throws Exception {
    if (client.checkExists().forPath(BASE) != null) {
      client.delete().deletingChildrenIfNeeded().forPath(BASE);
    }
    put("/initialize", "7000000000000000001");
    put("/config", "{\"ttl\":30,\"loop_wait\":10,\"postgresql\":{\"parameters\":{\"max_connections\":100}}}");
    put("/leader", "m0");
    put("/status", "{\"optime\":50331648}");
    put("/history", "[[1,25165824,\"no recovery target specified\",\"2026-11-20T09:00:00+00:00\",\"m0\"],"
        + "[2,33554432,\"no recovery target specified\",\"2026-11-21T09:00:00+00:00\",\"m0\"]]");
    for (int i = 0; i < 3; i++) {
      FakeMember m = MEMBERS.get(i);
      m.requests.clear();
      m.codes.clear();
      m.bodies.clear();
      put("/members/" + m.name, "{\"conn_url\":\"postgres://127.0.0.1:" + (5432 + i) + "/postgres\",\"api_url\":\""
          + m.apiUrl() + "\",\"state\":\"running\",\"role\":\"" + (i == 0 ? "primary" : "replica")
          + "\",\"version\":\"4.1.4\",\"xlog_location\":" + (i == 2 ? 49283072 : 50331648) + ",\"timeline\":3"
          + (i == 0 ? "" : ",\"replication_state\":\"streaming\"") + "}");
    }
  }

  private static void put(String path, String value) throws Exception {
    client.create().creatingParentsIfNeeded().forPath(BASE + path, value.getBytes(StandardCharsets.UTF_8));
  }

  private static void set(String path, String value) throws Exception {
    client.setData().forPath(BASE + path, value.getBytes(StandardCharsets.UTF_8));
  }

  private static String get(String path) throws Exception {
    return client.checkExists().forPath(BASE + path) == null ? null
        : new String(client.getData().forPath(BASE + path), StandardCharsets.UTF_8);
  }

  private static Result run(String stdin, String... args) {
    return run(new BufferedReader(new StringReader(stdin)), Map.of(), args);
  }

  private static Result run(BufferedReader stdin, Map<String, String> extraEnv, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
    Map<String, String> env = new HashMap<>(Map.of("HOME", dir.toString(), "PATH", System.getenv("PATH")));
    env.putAll(extraEnv);
    List<String> argv = new ArrayList<>(List.of("-c", configFile.toString()));
    argv.addAll(List.of(args));
    int code = new Ctl(outStream, env, new Prompts(stdin, outStream, null), CLOCK, new Random(1))
        .main(argv.toArray(String[]::new), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static final String TABLE = """
      + Cluster: gotham --------+---------+---------+----+-----------+
      | Member | Host           | Role    | State   | TL | Lag in MB |
      +--------+----------------+---------+---------+----+-----------+
      | m0     | 127.0.0.1:5432 | Leader  | running |  3 |           |
      | m1     | 127.0.0.1:5433 | Replica | running |  3 |         0 |
      | m2     | 127.0.0.1:5434 | Replica | running |  3 |         1 |
      +--------+----------------+---------+---------+----+-----------+
      """;

  // ------------------------------------------------------------------------------------------------- list

  @Test
  void listInEveryFormat() {
    Result pretty = run("", "list");
    assertThat(pretty.exitCode()).isZero();
    assertThat(pretty.out()).isEqualTo(TABLE);
    assertThat(run("", "list", "-f", "tsv").out()).isEqualTo("Cluster\tMember\tHost\tRole\tState\tTL\tLag in MB\n"
        + "gotham\tm0\t127.0.0.1:5432\tLeader\trunning\t3\t\n"
        + "gotham\tm1\t127.0.0.1:5433\tReplica\trunning\t3\t0\n"
        + "gotham\tm2\t127.0.0.1:5434\tReplica\trunning\t3\t1\n");
    assertThat(run("", "list", "gotham", "--format=json").out()).isEqualTo("[{\"Cluster\": \"gotham\", "
        + "\"Member\": \"m0\", \"Host\": \"127.0.0.1:5432\", \"Role\": \"Leader\", \"State\": \"running\", \"TL\": 3}, "
        + "{\"Cluster\": \"gotham\", \"Member\": \"m1\", \"Host\": \"127.0.0.1:5433\", \"Role\": \"Replica\", "
        + "\"State\": \"running\", \"TL\": 3, \"Lag in MB\": 0}, {\"Cluster\": \"gotham\", \"Member\": \"m2\", "
        + "\"Host\": \"127.0.0.1:5434\", \"Role\": \"Replica\", \"State\": \"running\", \"TL\": 3, \"Lag in MB\": 1}]\n");
    assertThat(run("", "list", "-f", "yaml").out()).startsWith("- Cluster: gotham\n  Host: 127.0.0.1:5432\n"
        + "  Member: m0\n  Role: Leader\n  State: running\n  TL: 3\n- Cluster: gotham\n");
    assertThat(run("", "list", "-t").out()).isEqualTo("2026-11-24 10:00:00\n" + TABLE);
    assertThat(run("", "list", "-e").out()).contains("| Pending restart | Scheduled restart | Tags |");
    assertThat(run("", "topology").out()).contains("| + m1   |");
    Result bad = run("", "list", "-f", "xml");
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.err()).isEqualTo("Error: Invalid value for '-f' / '--format': 'xml' is not one of 'pretty', "
        + "'tsv', 'json', 'yaml', 'yml'.\n");
  }

  @Test
  void anUnreachableZooKeeperIsOneLineWithinSeconds() throws Exception {
    int nobody = FreePorts.next();
    long started = System.nanoTime();
    Result r = run("", "-d", "zookeeper://127.0.0.1:" + nobody, "list");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("Error: cannot reach ZooKeeper at 127.0.0.1:" + nobody + "\n");
    assertThat((System.nanoTime() - started) / 1_000_000_000L).isLessThan(8);
  }

  @Test
  void usageMistakes() {
    assertThat(run("", "frobnicate")).isEqualTo(new Result(2, "", "Error: No such command 'frobnicate'.\n"));
    assertThat(run("", "list", "--nope").err()).isEqualTo("Error: No such option: --nope\n");
    Result missing = run(new BufferedReader(new StringReader("")), Map.of(), "-c", "/nonexistent.yml", "list");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err()).isEqualTo("Error: Provided config file /nonexistent.yml not existing or no read "
        + "rights. Check the -c/--config-file parameter\n");
    assertThat(run("", "restart").err()).isEqualTo("Error: Missing argument 'CLUSTER_NAME'.\n");
    assertThat(run("", "version").out()).startsWith("pghactl version ");
  }

  // ------------------------------------------------------------------------------------------- switchover

  @Test
  void switchoverAsksForWhatIsMissing() throws Exception {
    MEMBERS.get(0).answer("POST /switchover", 200, "Successfully switched over to \"m1\"");
    Result r = run("\nm1\n\ny\n", "switchover");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo("Current cluster topology\n" + TABLE + "Primary [m0]: Candidate ['m1', 'm2'] []: "
        + "When should the switchover take place (e.g. " + NEXT_HOUR + " )  [now]: "
        + "Are you sure you want to switchover cluster gotham, demoting current leader m0? [y/N]: "
        + "2026-11-24 10:00:00.00000 Successfully switched over to \"m1\"\n" + TABLE);
    assertThat(MEMBERS.get(0).requests).containsExactly("POST /switchover {\"leader\": \"m0\", \"candidate\": \"m1\"}");
    assertThat(MEMBERS.get(0).authorization).isEqualTo("Basic YWRtaW46czNjcmV0"); // admin:s3cret
  }

  @Test
  void switchoverScheduledWithForce() {
    MEMBERS.get(0).answer("POST /switchover", 202, "Switchover scheduled");
    Result r = run("", "switchover", "--force", "--candidate", "m2", "--scheduled", "2030-01-02T03:04:05+01:00");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("2026-11-24 10:00:00.00000 Switchover scheduled\n");
    assertThat(MEMBERS.get(0).requests).containsExactly("POST /switchover {\"leader\": \"m0\", \"candidate\": \"m2\", "
        + "\"scheduled_at\": \"2030-01-02T03:04:05+01:00\"}");
  }

  @Test
  void switchoverRefusesBadNamesAndChangesNothing() {
    assertThat(run("", "switchover", "--force", "--leader", "m1").err())
        .isEqualTo("Error: Member m1 is not the leader of cluster gotham\n");
    assertThat(run("", "switchover", "--force", "--candidate", "nobody").err())
        .isEqualTo("Error: Member nobody does not exist in cluster gotham or is tagged as nofailover\n");
    assertThat(run("", "switchover", "--force", "--candidate", "m0").err())
        .isEqualTo("Error: Member m0 is already the leader of cluster gotham\n");
    assertThat(run("", "switchover", "--force", "--candidate", "m1", "--scheduled", "tomorrow").err())
        .isEqualTo("Error: Unable to parse scheduled timestamp (tomorrow). It should be in an unambiguous format "
            + "(e.g. ISO 8601)\n");
    Result declined = run("\nm1\n\nn\n", "switchover");
    assertThat(declined.exitCode()).isEqualTo(1);
    assertThat(declined.err()).isEqualTo("Error: Aborting switchover\n");
    Result eof = run("", "switchover");
    assertThat(eof.exitCode()).isEqualTo(1);
    assertThat(eof.err()).isEqualTo("Aborted!\n");
    assertThat(MEMBERS.get(0).requests).isEmpty();
  }

  @Test
  void failoverNeedsACandidateAndReportsAFailedAnswer() throws Exception {
    assertThat(run("", "failover", "--force").err())
        .isEqualTo("Error: Failover could be performed only to a specific candidate\n");
    MEMBERS.get(0).answer("POST /failover", 412, "candidate does not exists");
    Result r = run("", "failover", "--candidate", "m2", "--force");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.out()).contains("Failover failed, details: 412, candidate does not exists\n");
    assertThat(MEMBERS.get(0).requests).containsExactly("POST /failover {\"candidate\": \"m2\"}");
  }

  @Test
  void switchoverFallsBackToTheFailoverKeyWhenNoMemberAnswers() throws Exception {
    set("/members/m0", get("/members/m0").replace(MEMBERS.get(0).apiUrl(),
        "http://127.0.0.1:" + FreePorts.next() + "/patroni"));
    Result r = run("", "switchover", "--force", "--candidate", "m1");
    assertThat(r.out()).contains("2026-11-24 10:00:00.00000 Could not switchover using Patroni api, falling back "
        + "to DCS\n");
    assertThat(get("/failover")).isEqualTo("{\"leader\":\"m0\",\"member\":\"m1\"}");
  }

  // ---------------------------------------------------------------------------------------------- restart

  @Test
  void restartAsksWhenAndWhichVersion() {
    MEMBERS.get(1).answer("POST /restart", 409, "Another restart is already scheduled");
    MEMBERS.get(2).answer("POST /restart", 503, "restart failed");
    Result r = run("\ny\n\n", "restart", SCOPE);
    assertThat(r.out()).isEqualTo(TABLE + "When should the restart take place (e.g. " + NEXT_HOUR + ")  [now]: "
        + "Are you sure you want to restart members m0, m1, m2? [y/N]: "
        + "Restart if the PostgreSQL version is less than provided (e.g. 9.5.2)  []: "
        + "Success: restart on member m0\n"
        + "Failed: another restart is already scheduled on member m1\n"
        + "Failed: restart for member m2, status code=503, (restart failed)\n");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(MEMBERS.get(0).requests).containsExactly("POST /restart {}");
  }

  @Test
  void restartOptionsGoIntoTheBody() {
    MEMBERS.get(1).answer("POST /restart", 202, "Restart scheduled");
    Result r = run("", "restart", SCOPE, "m1", "--force", "--scheduled", "2030-01-01T00:00:00+00:00",
        "--pg-version", "15.4", "--pending", "--timeout", "30s");
    assertThat(r.out()).endsWith("Success: restart scheduled on member m1\n");
    assertThat(MEMBERS.get(1).requests).containsExactly("POST /restart {\"restart_pending\": true, "
        + "\"postgres_version\": \"15.4\", \"schedule\": \"2030-01-01T00:00:00+00:00\", \"timeout\": \"30s\"}");
    assertThat(MEMBERS.get(0).requests).isEmpty();
  }

  @Test
  void restartRefusesBadInput() throws Exception {
    assertThat(run("", "restart", SCOPE, "--force", "--pg-version", "9").err())
        .isEqualTo("Error: Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 9\n");
    assertThat(run("", "restart", SCOPE, "nobody", "--force").err())
        .isEqualTo("Error: nobody is not a member of cluster\n");
    assertThat(run("", "restart", SCOPE, "m1", "-r", "primary", "--force").err())
        .isEqualTo("Error: No primary among provided members\n");
    assertThat(run("", "restart", SCOPE, "-r", "boss", "--force").exitCode()).isEqualTo(2);
    set("/config", "{\"loop_wait\":10,\"pause\":true}");
    assertThat(run("", "restart", SCOPE, "--force", "--scheduled", "2030-01-01T00:00:00+00:00").err())
        .isEqualTo("Error: Can't schedule restart in the paused state\n");
    assertThat(run("y\n", "restart", SCOPE, "--any", "--scheduled", "now", "--pg-version", "15.4").exitCode())
        .isZero();
    assertThat(MEMBERS.stream().mapToInt(m -> m.requests.size()).sum()).isEqualTo(1); // --any: one member
  }

  // ------------------------------------------------------------------------------------------ reinit, reload

  @Test
  void reinitCancelsARunningTaskOnlyWhenConfirmed() {
    MEMBERS.get(2).answer("POST /reinitialize", 503, "reinitialize already in progress");
    Result r = run("y\nn\n", "reinit", SCOPE, "m2");
    assertThat(r.out()).isEqualTo(TABLE + "Are you sure you want to reinitialize members m2? [y/N]: "
        + "Failed: reinitialize for member m2, status code=503, (reinitialize already in progress)\n"
        + "Do you want to cancel it and reinitialize anyway? [y/N]: ");
    assertThat(MEMBERS.get(2).requests).containsExactly("POST /reinitialize {\"force\": false}");
    MEMBERS.get(1).answer("POST /reinitialize", 200, "reinitialize started");
    assertThat(run("", "reinit", SCOPE, "m1", "--force", "--from-leader").out())
        .endsWith("Success: reinitialize for member m1\n");
    assertThat(MEMBERS.get(1).requests).containsExactly("POST /reinitialize {\"force\": true, \"from_leader\": true}");
    assertThat(run("", "reinit", SCOPE, "m0", "--force").err()).isEqualTo("Error: No replica among provided members\n");
  }

  @Test
  void reinitAsksForAMemberAndWaits() {
    MEMBERS.get(1).answer("POST /reinitialize", 200, "reinitialize started");
    MEMBERS.get(1).answer("GET /patroni", 200, "{\"state\":\"running\"}");
    Result r = run("m1\ny\n", "reinit", SCOPE, "--wait");
    assertThat(r.out()).isEqualTo(TABLE + "Which member do you want to reinitialize [m1, m2]? []: "
        + "Are you sure you want to reinitialize members m1? [y/N]: Success: reinitialize for member m1\n"
        + "Waiting for reinitialize to complete on: m1\nReinitialize is completed on: m1\n");
  }

  @Test
  void reloadReportsEachMember() {
    MEMBERS.get(0).answer("POST /reload", 202, "reload scheduled");
    Result r = run("", "reload", SCOPE, "--force", "-r", "any");
    assertThat(r.out()).isEqualTo(TABLE
        + "Reload request received for member m0 and will be processed within 10 seconds\n"
        + "No changes to apply on member m1\nNo changes to apply on member m2\n");
    assertThat(run("n\n", "reload", SCOPE).err()).isEqualTo("Error: Aborted reload\n");
  }

  // -------------------------------------------------------------------------------------------- pause

  @Test
  void pauseAndResumePatchTheConfigThroughTheLeader() throws Exception {
    Result paused = run("", "pause");
    assertThat(paused).isEqualTo(new Result(0, "Success: cluster management is paused\n", ""));
    assertThat(MEMBERS.get(0).requests).containsExactly("PATCH /config {\"pause\": true}");
    assertThat(run("", "resume").err()).isEqualTo("Error: Cluster is not paused\n");
    set("/config", "{\"loop_wait\":1,\"pause\":true}");
    assertThat(run("", "pause").err()).isEqualTo("Error: Cluster is already paused\n");
    MEMBERS.get(0).server.stop(0); // the leader does not answer: the next member is asked
    try {
      Result resumed = run("", "resume", "--wait");
      assertThat(resumed.out()).isEqualTo("'resume' request sent, waiting until it is recognized by all nodes\n"
          + "Success: cluster management is resumed\n");
      assertThat(MEMBERS.get(1).requests).containsExactly("PATCH /config {\"pause\": null}");
    } finally {
      FakeMember restarted = new FakeMember("m0");
      MEMBERS.set(0, restarted);
    }
  }

  // ------------------------------------------------------------------------- demote-cluster, promote-cluster

  @Test
  void demoteClusterPatchesStandbyClusterAndWaitsForTheStandbyLeader() throws Exception {
    assertThat(run("", "demote-cluster", "--force").err())
        .isEqualTo("Error: At least --host, --port or --restore-command should be specified\n");
    assertThat(run("", "promote-cluster", "--force").err()).isEqualTo("Error: Cluster is already in the required state\n");
    assertThat(run("n\n", "demote-cluster", "--host", "10.0.0.9").err()).isEqualTo("Error: Aborted cluster demotion\n");
    assertThat(MEMBERS.get(0).requests).isEmpty();
    // the agent's side, played here: once the request came, m0 reports itself the standby leader
    Thread agent = new Thread(() -> {
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (MEMBERS.get(0).requests.isEmpty() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
      try {
        String key = get("/members/m0").replace("\"role\":\"primary\"", "\"role\":\"standby_leader\"");
        set("/members/m0", key);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    agent.start();
    Result demoted = run("", "demote-cluster", "--host", "10.0.0.9", "--port", "6432", "--primary-slot-name", "b",
        "--force");
    agent.join();
    assertThat(demoted.exitCode()).as(demoted.toString()).isZero();
    assertThat(MEMBERS.get(0).requests).containsExactly(
        "PATCH /config {\"standby_cluster\": {\"host\": \"10.0.0.9\", \"port\": 6432, \"primary_slot_name\": \"b\"}}");
    assertThat(demoted.out()).startsWith("Current cluster topology\n" + TABLE)
        .contains("2026-11-24 10:00:00 cluster is successfully demoted\n");
    assertThat(run("", "demote-cluster", "--port", "5432", "--force").err())
        .isEqualTo("Error: Cluster is already in the required state\n");
    assertThat(run("", "demote-cluster", "--port", "x", "--force").err()).contains("'x' is not a valid integer");
    client.delete().forPath(BASE + "/leader");
    assertThat(run("", "promote-cluster", "--force").err())
        .isEqualTo("Error: Cluster has no leader, promotion is not possible\n");
  }

  // --------------------------------------------------------------------------------------- configuration

  @Test
  void showConfigIsYaml() {
    assertThat(run("", "show-config").out())
        .isEqualTo("loop_wait: 10\npostgresql:\n  parameters:\n    max_connections: 100\nttl: 30\n\n");
  }

  @Test
  void editConfigShowsTheDiffAndWritesOnlyWhenConfirmed() throws Exception {
    // as Python's difflib has it: three lines of context
    String diff = "--- \n+++ \n@@ -2,4 +2,5 @@\n postgresql:\n   parameters:\n"
        + "     max_connections: 100\n-ttl: 30\n+    pg_stat_statements.track: all\n+ttl: 20\n";
    Result declined = run("n\n", "edit-config", "-s", "ttl=20", "-p", "pg_stat_statements.track=all");
    assertThat(declined).isEqualTo(new Result(0, diff + "Apply these changes? [y/N]: ", ""));
    assertThat(get("/config")).contains("\"ttl\":30");
    Result applied = run("y\n", "edit-config", "-s", "ttl=20", "-p", "pg_stat_statements.track=all");
    assertThat(applied.out()).isEqualTo(diff + "Apply these changes? [y/N]: Configuration changed\n");
    assertThat(get("/config")).isEqualTo("{\"ttl\":20,\"loop_wait\":10,\"postgresql\":{\"parameters\":"
        + "{\"max_connections\":100,\"pg_stat_statements.track\":\"all\"}}}");
    assertThat(run("", "edit-config", "-s", "ttl=20", "--force").out()).isEqualTo("Not changed\n");
    assertThat(run("", "edit-config", "-q", "--force", "-s", "loop_wait=null").out())
        .isEqualTo("Configuration changed\n"); // -q hides the diff only
    assertThat(get("/config")).doesNotContain("loop_wait");
  }

  @Test
  void editConfigRefusesBadInputAndConcurrentEdits() throws Exception {
    Result bad = run("", "edit-config", "--force", "-s", "ttl");
    assertThat(bad).isEqualTo(new Result(1, "", "Error: Invalid parameter setting ttl\n"));
    // someone else writes the config while we wait for the confirmation
    BufferedReader racing = new BufferedReader(new StringReader("y\n")) {
      @Override
      public String readLine() throws IOException {
        try {
          set("/config", "{\"ttl\":25}");
        } catch (Exception e) {
          throw new IOException(e);
        }
        return super.readLine();
      }
    };
    Result r = run(racing, Map.of(), "edit-config", "-s", "ttl=20");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("Error: Config modification aborted due to concurrent changes\n");
    assertThat(get("/config")).isEqualTo("{\"ttl\":25}");
    Result fromStdin = run("ttl: 99\n", "edit-config", "--apply", "-");
    assertThat(fromStdin.out()).endsWith("-ttl: 25\n+ttl: 99\nUse --force option to apply changes\n");
    assertThat(get("/config")).isEqualTo("{\"ttl\":25}");
    client.delete().forPath(BASE + "/config");
    assertThat(run("", "edit-config", "-s", "ttl=1", "--force").err())
        .isEqualTo("Error: The config key does not exist in the cluster gotham\n");
  }

  @Test
  void editConfigOpensTheEditor() throws Exception {
    Path editor = dir.resolve("edit.sh");
    Files.writeString(editor, "#!/bin/sh\nsed -i 's/^ttl: .*/ttl: 31/' \"$1\"\n");
    Files.setPosixFilePermissions(editor, PosixFilePermissions.fromString("rwx------"));
    Result r = run(new BufferedReader(new StringReader("")), Map.of("EDITOR", editor.toString()), "edit-config",
        "--force");
    assertThat(r.out()).endsWith("-ttl: 30\n+ttl: 31\nConfiguration changed\n");
    assertThat(get("/config")).contains("\"ttl\":31");
  }

  @Test
  void replaceAndApplyFiles() throws Exception {
    Path file = dir.resolve("new.yml");
    Files.writeString(file, "ttl: 40\nloop_wait: null\n");
    assertThat(run("", "edit-config", "--force", "--apply", file.toString()).exitCode()).isZero();
    assertThat(get("/config")).isEqualTo("{\"ttl\":40,\"postgresql\":{\"parameters\":{\"max_connections\":100}}}");
    assertThat(run("", "edit-config", "--force", "--replace", file.toString()).exitCode()).isZero();
    assertThat(get("/config")).isEqualTo("{\"ttl\":40}");
  }

  // ------------------------------------------------------------------------------- dsn, history, version

  @Test
  void dsnOfLeaderMemberOrRole() {
    assertThat(run("", "dsn").out()).isEqualTo("host=127.0.0.1 port=5432\n");
    assertThat(run("", "dsn", "-m", "m2").out()).isEqualTo("host=127.0.0.1 port=5434\n");
    assertThat(run("", "dsn", "-r", "replica").out()).isEqualTo("host=127.0.0.1 port=5433\n");
    assertThat(run("", "dsn", "-r", "standby-leader").err()).isEqualTo("Error: Can not find a suitable member\n");
    assertThat(run("", "dsn", "-r", "replica", "-m", "m1").err())
        .isEqualTo("Error: --role and --member are mutually exclusive options\n");
  }

  @Test
  void historyInEveryFormat() {
    assertThat(run("", "history").out()).isEqualTo("""
        +----+----------+------------------------------+---------------------------+------------+
        | TL |      LSN | Reason                       | Timestamp                 | New Leader |
        +----+----------+------------------------------+---------------------------+------------+
        |  1 | 25165824 | no recovery target specified | 2026-11-20T09:00:00+00:00 | m0         |
        |  2 | 33554432 | no recovery target specified | 2026-11-21T09:00:00+00:00 | m0         |
        +----+----------+------------------------------+---------------------------+------------+
        """);
    assertThat(run("", "history", "-f", "json").out()).startsWith("[{\"TL\": 1, \"LSN\": 25165824, \"Reason\": ");
    assertThat(run("", "history", "-f", "tsv").out()).startsWith("TL\tLSN\tReason\tTimestamp\tNew Leader\n1\t");
    assertThat(run("", "history", "-f", "yaml").out()).startsWith("- LSN: 25165824\n  New Leader: m0\n");
  }

  @Test
  void versionAsksEveryMember() {
    MEMBERS.forEach(m -> m.answer("GET /patroni", 200,
        "{\"patroni\":{\"version\":\"4.1.4\"},\"server_version\":" + (m.name.equals("m2") ? 90624 : 150004) + "}"));
    Result r = run("", "version", SCOPE, "m0", "m2");
    assertThat(r.out()).endsWith("\nm0: Patroni 4.1.4 PostgreSQL 15.4\nm2: Patroni 4.1.4 PostgreSQL 9.6.24\n");
    assertThat(r.out()).startsWith("pghactl version ");
  }

  // -------------------------------------------------------------------------------------- remove, flush

  @Test
  void removeAsksThreeTimes() throws Exception {
    assertThat(run("batman\n", "remove", SCOPE).err()).isEqualTo("Error: Cluster names specified do not match\n");
    assertThat(run("gotham\nyes\n", "remove", SCOPE).err())
        .isEqualTo("Error: You did not exactly type \"Yes I am aware\"\n");
    assertThat(run("gotham\nYes I am aware\nm1\n", "remove", SCOPE).err())
        .isEqualTo("Error: You did not specify the current leader of the cluster\n");
    assertThat(client.checkExists().forPath(BASE)).isNotNull();
    Result r = run("gotham\nYes I am aware\nm0\n", "remove", SCOPE);
    assertThat(r.out()).isEqualTo(TABLE + "Please confirm the cluster name to remove: You are about to remove all "
        + "information in DCS for gotham, please type: \"Yes I am aware\": This cluster currently is healthy. "
        + "Please specify the leader name to continue: ");
    assertThat(r.exitCode()).isZero();
    assertThat(client.checkExists().forPath(BASE)).isNull();
  }

  @Test
  void flushRestartsAndSwitchover() throws Exception {
    set("/members/m1", get("/members/m1")
        .replace("}", ",\"scheduled_restart\":{\"schedule\":\"2030-01-01T00:00:00+00:00\"}}"));
    MEMBERS.get(1).answer("DELETE /restart", 200, "scheduled restart deleted");
    Result r = run("", "flush", SCOPE, "restart", "--force");
    assertThat(r.out()).endsWith("No scheduled restart for member m0\nSuccess: flush scheduled restart for member m1\n"
        + "No scheduled restart for member m2\n");
    assertThat(run("", "flush", SCOPE, "switchover").out()).isEqualTo("No pending scheduled switchover\n");
    put("/failover", "{\"leader\":\"m0\",\"member\":\"m1\",\"scheduled_at\":\"2030-01-01T00:00:00+00:00\"}");
    MEMBERS.get(0).answer("DELETE /switchover", 200, "scheduled switchover deleted");
    assertThat(run("", "flush", SCOPE, "switchover").out()).isEqualTo("Success: scheduled switchover deleted\n");
    MEMBERS.get(0).answer("DELETE /switchover", 500, "oops");
    MEMBERS.get(1).answer("DELETE /switchover", 500, "oops");
    MEMBERS.get(2).answer("DELETE /switchover", 500, "oops");
    Result fallback = run("", "flush", SCOPE, "switchover");
    assertThat(fallback.out()).endsWith("2026-11-24 10:00:00.00000 Could not find any accessible member of cluster "
        + "gotham\n");
    assertThat(get("/failover")).isEqualTo("{}");
    assertThat(run("", "flush", SCOPE, "everything").exitCode()).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------- scaffold, configure

  @Test
  void scaffoldCreatesAPermanentLeaderOnce() throws Exception {
    client.delete().deletingChildrenIfNeeded().forPath(BASE);
    Result r = run("", "scaffold", SCOPE, "--sysid", "7000000000000000042");
    assertThat(r).isEqualTo(new Result(0, "Cluster gotham has been created successfully\n", ""));
    assertThat(get("/initialize")).isEqualTo("7000000000000000042");
    assertThat(get("/leader")).isEqualTo(SCOPE);
    assertThat(client.checkExists().forPath(BASE + "/leader").getEphemeralOwner()).isZero();
    assertThat(JSON.readTree(get("/members/gotham")).path("api_url").asText())
        .isEqualTo("http://127.0.0.1:8008/patroni");
    assertThat(run("", "scaffold", SCOPE).err()).isEqualTo("Error: This cluster is already initialized\n");
    assertThat(run("", "scaffold", "other", "--sysid", "12").err())
        .isEqualTo("Error: Invalid system identifier 12: ten or more digits expected\n");
  }

  @Test
  void configureWritesAStarterFile() throws Exception {
    Path target = dir.resolve("new").resolve("patronictl.yaml");
    Result r = run(target + "\nzookeeper://zk1:2181\n\nbatman\nadmin\nsecret\n", "configure");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo("Configuration file [" + configFile + "]: DCS connect url "
        + "[zookeeper://localhost:2181]: Namespace [/service/]: Cluster name (scope) []: "
        + "REST API username (empty for none) []: REST API password: \nConfiguration written to " + target + "\n");
    assertThat(Files.readString(target)).isEqualTo("ctl:\n  authentication:\n    password: secret\n"
        + "    username: admin\nnamespace: /service/\nscope: batman\nzookeeper:\n  hosts:\n  - zk1:2181\n");
    assertThat(Files.getPosixFilePermissions(target)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(run("", "configure", "-c", target.toString(), "-d", "etcd://x:2379", "-n", "/s/", "--scope", "a",
        "--username", "").err()).isEqualTo("Error: pghactl supports only ZooKeeper, not etcd (etcd://x:2379)\n");
  }

  // ----------------------------------------------------------------------------------------------- query

  @Test
  void queryChecksItsOptionsFirst() {
    assertThat(run("", "query").err()).isEqualTo("Error: You need to specify either --command or --file\n");
    assertThat(run("", "query", "-c", "SELECT 1", "-f", "x.sql").err())
        .isEqualTo("Error: --file and --command are mutually exclusive options\n");
  }
}
