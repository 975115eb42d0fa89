package io.pgha.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.api.TestHttp.Reply;
import io.pgha.bus.Addresses;
import io.pgha.bus.LocalCodec;
import io.pgha.launch.FreePorts;
import io.pgha.model.NodeStatus;
import io.pgha.zk.EmbeddedZooKeeper;
import io.vertx.core.Vertx;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryForever;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /cluster}, {@code /history} and {@code /config} against a real in-JVM ZooKeeper holding the tree Patroni
 * 3.0.2 left behind (shared/reference/patroni-3.0.2/zk_tree.json), compared with that Patroni's answers.
 */
class ClusterRoutesTest {
  private static final String FIXTURES = "/io/pgha/api/patroni-3.0.2/";
  private static final String BASE = "/service/batman";
  private static final String CONFIG = BASE + "/config";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path dataDir;

  private static EmbeddedZooKeeper zookeeper;
  /** Writes the fixture, owns its ephemeral znodes and plays the other writer. */
  private static CuratorFramework loader;

  /** The agent's client, as ZooKeeperDcs builds it (retries forever). */
  private CuratorFramework agentClient;
  private Vertx vertx;
  private TestHttp http;
  private final AtomicInteger wakeups = new AtomicInteger();
  /** What PATCH does between its read and its write; a test may put a concurrent writer here. */
  private final AtomicReference<Runnable> betweenReadAndWrite = new AtomicReference<>(() -> {});

  @BeforeAll
  static void startZooKeeper() throws Exception {
    zookeeper = EmbeddedZooKeeper.start(FreePorts.next(), dataDir);
    loader = CuratorFrameworkFactory.newClient(zookeeper.connectString(), new RetryOneTime(100));
    loader.start();
    loader.blockUntilConnected();
  }

  @AfterAll
  static void stopZooKeeper() {
    if (loader != null) {
      loader.close();
    }
    if (zookeeper != null) {
      zookeeper.close();
    }
  }

  @BeforeEach
  void start() throws Exception {
    loadReferenceTree();
    agentClient = CuratorFrameworkFactory.newClient(zookeeper.connectString(), 30_000, 5_000, new RetryForever(500));
    agentClient.start();
    agentClient.blockUntilConnected(10, TimeUnit.SECONDS);
    vertx = Vertx.vertx();
    vertx.eventBus().registerDefaultCodec(NodeStatus.class, new LocalCodec<>(NodeStatus.class));
    vertx.eventBus().localConsumer(Addresses.HA_WAKE, m -> wakeups.incrementAndGet());
    http = new TestHttp(deploy(agentClient));
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    agentClient.close();
  }

  private int deploy(CuratorFramework client) throws Exception {
    ApiVerticle api = new ApiVerticle("127.0.0.1", 0, Statuses.leader());
    ClusterRoutes.install(api, client, BASE, vertx, () -> vertx.executeBlocking(() -> {
      betweenReadAndWrite.get().run();
      return null;
    }));
    vertx.deployVerticle(api).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return api.actualPort();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // GET /cluster, /history, /config

  @Test
  void clusterIsPatronisAnswerPlusTheFieldsOf4x() throws Exception {
    Reply reply = http.get("/cluster");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.header("Content-Type")).isEqualTo("application/json");
    ObjectNode body = (ObjectNode) JSON.readTree(reply.body());
    assertThat(body.get("scope").asText()).isEqualTo("batman"); // added by the REST handler since 3.2
    for (JsonNode member : body.get("members")) {
      if (member.get("role").asText().equals("leader")) {
        assertThat(member.has("lsn")).isFalse();
        continue;
      }
      // 4.1: receive/replay LSNs (not published by 3.0.2 members: unknown) and the plain LSN beside the lag
      assertThat(member.get("receive_lsn").asText()).isEqualTo("unknown");
      assertThat(member.get("receive_lag").asText()).isEqualTo("unknown");
      assertThat(member.get("replay_lsn").asText()).isEqualTo("unknown");
      assertThat(member.get("replay_lag").asText()).isEqualTo("unknown");
      assertThat(member.get("lsn").asText()).isEqualTo("0/40C2D48");
      for (String key : List.of("receive_lsn", "receive_lag", "replay_lsn", "replay_lag", "lsn")) {
        ((ObjectNode) member).remove(key);
      }
    }
    body.remove("scope");
    assertThat(body).isEqualTo(fixture("GET_cluster.body"));
  }

  @Test
  void clusterIsReadFreshFromZooKeeper() throws Exception {
    loader.setData().forPath(BASE + "/members/postgresql0", ("{\"conn_url\":\"postgres://10.0.0.7/postgres\","
        + "\"api_url\":\"http://10.0.0.7:8008/patroni\",\"state\":\"running\",\"role\":\"replica\","
        + "\"replication_state\":\"streaming\",\"xlog_location\":67906000,\"receive_lsn\":67906888,"
        + "\"tags\":{\"nofailover\":true}}").getBytes(StandardCharsets.UTF_8));
    loader.setData().forPath(CONFIG, ("{\"synchronous_mode\":\"on\",\"pause\":true}").getBytes(StandardCharsets.UTF_8));
    loader.create().orSetData().forPath(BASE + "/sync",
        "{\"leader\":\"postgresql2\",\"sync_standby\":\"PostgreSQL1\"}".getBytes(StandardCharsets.UTF_8));
    loader.setData().forPath(BASE + "/failover", ("{\"leader\":\"postgresql2\",\"member\":\"postgresql0\","
        + "\"scheduled_at\":\"2026-11-25T10:36:00+02:00\"}").getBytes(StandardCharsets.UTF_8));
    loader.delete().forPath(BASE + "/members/postgresql1");

    JsonNode body = JSON.readTree(http.get("/cluster").body());

    assertThat(body.get("members")).extracting(m -> m.get("name").asText())
        .containsExactly("postgresql0", "postgresql2");
    JsonNode replica = body.get("members").get(0);
    assertThat(replica.get("state").asText()).isEqualTo("streaming");
    assertThat(replica.get("host").asText()).isEqualTo("10.0.0.7");
    assertThat(replica.get("port").asInt()).isEqualTo(5432);
    assertThat(replica.get("lag").asLong()).isEqualTo(888);
    assertThat(replica.get("receive_lag").asLong()).isZero();
    assertThat(replica.get("tags").get("nofailover").asBoolean()).isTrue();
    assertThat(body.get("pause").asBoolean()).isTrue();
    assertThat(body.get("scheduled_switchover")).isEqualTo(JSON.readTree(
        "{\"at\":\"2026-11-25T10:36:00+02:00\",\"from\":\"postgresql2\",\"to\":\"postgresql0\"}"));

    // the sync standby, named with other case in the sync key
    loader.create().withMode(CreateMode.EPHEMERAL).forPath(BASE + "/members/postgresql1",
        "{\"conn_url\":\"postgres://127.0.0.1:25433/postgres\",\"state\":\"running\",\"role\":\"replica\"}"
            .getBytes(StandardCharsets.UTF_8));
    JsonNode again = JSON.readTree(http.get("/cluster").body());
    assertThat(again.get("members").get(1).get("role").asText()).isEqualTo("sync_standby");
    assertThat(again.get("members").get(1).get("api_url").isNull()).isTrue();
  }

  @Test
  void historyIsTheHistoryKeyOrEmpty() throws Exception {
    Reply reply = http.get("/history");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(JSON.readTree(reply.body())).isEqualTo(fixture("GET_history.body"));

    loader.setData().forPath(BASE + "/history", "not json".getBytes(StandardCharsets.UTF_8));
    assertThat(http.get("/history").body()).isEqualTo("[]");
    loader.delete().forPath(BASE + "/history");
    assertThat(http.get("/history").body()).isEqualTo("[]");
  }

  @Test
  void configIsTheConfigKeyOr502() throws Exception {
    Reply reply = http.get("/config");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(JSON.readTree(reply.body())).isEqualTo(fixture("GET_config.body"));

    loader.setData().forPath(CONFIG, "[1,2]".getBytes(StandardCharsets.UTF_8));
    Reply notAnObject = http.get("/config");
    assertThat(notAnObject.status()).isEqualTo(502);
    assertThat(notAnObject.body()).isEqualTo("Bad Gateway: the config key in the DCS is not a JSON object");

    loader.delete().forPath(CONFIG);
    assertThat(http.get("/config").status()).isEqualTo(502);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // PATCH /config

  @Test
  void patchMergesDeletesWithNullAndWritesWithTheVersionRead() throws Exception {
    int versionBefore = version(CONFIG);

    Reply reply = http.send("PATCH", "/config", "{\"loop_wait\":5,\"postgresql\":{\"parameters\":"
        + "{\"wal_level\":null,\"max_connections\":200}},\"retry_timeout\":null,\"new\":{\"a\":1},\"gone\":null}");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.header("Content-Type")).isEqualTo("application/json");
    JsonNode expected = JSON.readTree("{\"ttl\":30,\"loop_wait\":5,\"maximum_lag_on_failover\":1048576,"
        + "\"postgresql\":{\"use_pg_rewind\":true,\"parameters\":{\"max_connections\":200}},\"new\":{\"a\":1}}");
    assertThat(JSON.readTree(reply.body())).isEqualTo(expected);
    assertThat(JSON.readTree(data(CONFIG))).isEqualTo(expected);
    assertThat(data(CONFIG)).doesNotContain(" "); // compact, as Patroni writes it
    assertThat(version(CONFIG)).isEqualTo(versionBefore + 1);
    assertThat(wakeups()).isEqualTo(1);
  }

  @Test
  void patchWithTextEqualValuesWritesNothingButAnswersTheConfig() throws Exception {
    String before = data(CONFIG);
    int versionBefore = version(CONFIG);

    // 30 = "30", true = "True", 1048576 = "1048576"; deleting an absent key is no change either
    Reply reply = http.send("PATCH", "/config", "{\"ttl\":\"30\",\"postgresql\":{\"use_pg_rewind\":\"True\","
        + "\"parameters\":{\"wal_level\":\"logical\"}},\"maximum_lag_on_failover\":\"1048576\",\"absent\":null}");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(JSON.readTree(reply.body())).isEqualTo(JSON.readTree(before));
    assertThat(data(CONFIG)).isEqualTo(before);
    assertThat(version(CONFIG)).isEqualTo(versionBefore);
    assertThat(wakeups()).isEqualTo(1); // Patroni wakes the loop either way

    // "true" is not the text of True: a change
    Reply changed = http.send("PATCH", "/config", "{\"postgresql\":{\"use_pg_rewind\":\"true\"}}");
    assertThat(changed.status()).isEqualTo(200);
    assertThat(version(CONFIG)).isEqualTo(versionBefore + 1);
    assertThat(JSON.readTree(data(CONFIG)).get("postgresql").get("use_pg_rewind").asText()).isEqualTo("true");
  }

  @Test
  void patchAnswers409WhenTheConfigChangesBetweenReadAndWrite() throws Exception {
    String theirs = "{\"ttl\":40,\"loop_wait\":10}";
    betweenReadAndWrite.set(() -> {
      try {
        loader.setData().forPath(CONFIG, theirs.getBytes(StandardCharsets.UTF_8));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });

    Reply reply = http.send("PATCH", "/config", "{\"loop_wait\":5}");

    assertThat(reply.status()).isEqualTo(409);
    assertThat(reply.body()).isEqualTo(
        "Conflict: the config was changed by someone else meanwhile; read it and retry");
    assertThat(data(CONFIG)).isEqualTo(theirs);
    assertThat(wakeups()).isZero();

    betweenReadAndWrite.set(() -> {});
    Reply retry = http.send("PATCH", "/config", "{\"loop_wait\":5}");
    assertThat(retry.status()).isEqualTo(200);
    assertThat(JSON.readTree(data(CONFIG))).isEqualTo(JSON.readTree("{\"ttl\":40,\"loop_wait\":5}"));
  }

  @Test
  void patchAnswers409WhenTheConfigIsDeletedBetweenReadAndWrite() throws Exception {
    betweenReadAndWrite.set(() -> {
      try {
        loader.delete().forPath(CONFIG);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });

    assertThat(http.send("PATCH", "/config", "{\"loop_wait\":5}").status()).isEqualTo(409);
    assertThat(loader.checkExists().forPath(CONFIG)).isNull();
  }

  @Test
  void patchAnswers503WithoutAValidConfig() throws Exception {
    loader.setData().forPath(CONFIG, "garbage".getBytes(StandardCharsets.UTF_8));
    Reply garbage = http.send("PATCH", "/config", "{\"loop_wait\":5}");
    assertThat(garbage.status()).isEqualTo(503);
    assertThat(garbage.body()).isEqualTo("Service Unavailable: the config key in the DCS is not a JSON object");
    assertThat(data(CONFIG)).isEqualTo("garbage");

    loader.delete().forPath(CONFIG);
    Reply missing = http.send("PATCH", "/config", "{\"loop_wait\":5}");
    assertThat(missing.status()).isEqualTo(503);
    assertThat(missing.body()).isEqualTo("Service Unavailable: there is no config key in the DCS");
    assertThat(loader.checkExists().forPath(CONFIG)).isNull();
    assertThat(wakeups()).isZero();
  }

  @Test
  void patchThatZooKeeperRefusesIs503NotAConflict() throws Exception {
    readOnly(CONFIG);
    String before = data(CONFIG);

    Reply reply = http.send("PATCH", "/config", "{\"loop_wait\":5}");

    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.body()).isEqualTo("Service Unavailable: cannot write the config: ZooKeeper: noauth");
    assertThat(data(CONFIG)).isEqualTo(before);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // PUT /config

  @Test
  void putOverwritesWhenDifferentAndEchoesTheBody() throws Exception {
    int versionBefore = version(CONFIG);
    String body = "{\"ttl\": 20, \"loop_wait\": 5, \"postgresql\": {\"parameters\": {\"x\": null}}}";

    Reply reply = http.send("PUT", "/config", body);

    assertThat(reply.status()).isEqualTo(200);
    assertThat(JSON.readTree(reply.body())).isEqualTo(JSON.readTree(body));
    assertThat(data(CONFIG)).isEqualTo("{\"ttl\":20,\"loop_wait\":5,\"postgresql\":{\"parameters\":{\"x\":null}}}");
    assertThat(version(CONFIG)).isEqualTo(versionBefore + 1);
  }

  @Test
  void putOfTheSameTextWritesNothing() throws Exception {
    String before = data(CONFIG);
    int versionBefore = version(CONFIG);
    String sameText = "{\"ttl\":\"30\",\"loop_wait\":10,\"retry_timeout\":\"10\",\"maximum_lag_on_failover\":1048576,"
        + "\"postgresql\":{\"use_pg_rewind\":\"True\",\"parameters\":{\"wal_level\":\"logical\"}}}";

    Reply reply = http.send("PUT", "/config", sameText);

    assertThat(reply.status()).isEqualTo(200);
    assertThat(JSON.readTree(reply.body())).isEqualTo(JSON.readTree(sameText));
    assertThat(data(CONFIG)).isEqualTo(before);
    assertThat(version(CONFIG)).isEqualTo(versionBefore);
  }

  @Test
  void putCreatesAMissingConfigKeyAndItsParents() throws Exception {
    loader.delete().deletingChildrenIfNeeded().forPath(BASE);

    Reply reply = http.send("PUT", "/config", "{\"ttl\":30}");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(data(CONFIG)).isEqualTo("{\"ttl\":30}");
  }

  @Test
  void putThatCannotBeWrittenIs502() throws Exception {
    readOnly(CONFIG);
    String before = data(CONFIG);

    Reply reply = http.send("PUT", "/config", "{\"ttl\":20}");

    assertThat(reply.status()).isEqualTo(502);
    assertThat(reply.body()).isEqualTo("Bad Gateway: cannot write the config: ZooKeeper: noauth");
    assertThat(data(CONFIG)).isEqualTo(before);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // bad bodies: a 4xx with one line, nothing written

  @Test
  void badBodiesAreRefusedWithOneLineAndChangeNothing() throws Exception {
    String before = data(CONFIG);
    int versionBefore = version(CONFIG);
    String large = "{\"x\":\"" + "a".repeat(JsonBody.MAX_BYTES) + "\"}";

    for (String method : List.of("PATCH", "PUT")) {
      assertRefused(http.send(method, "/config", "{\"ttl\": 20,"), 400,
          "Bad Request: the body is not valid JSON at line 1 column 12: Unexpected end-of-input*");
      assertRefused(http.send(method, "/config", "{\"ttl\": 20} trailing"), 400,
          "Bad Request: the body is not valid JSON at line 1 column 21: Unrecognized token 'trailing'*");
      assertRefused(http.send(method, "/config", "[{\"ttl\": 20}]"), 400,
          "Bad Request: the body must be a JSON object, got an array");
      assertRefused(http.send(method, "/config", "\"ttl\""), 400,
          "Bad Request: the body must be a JSON object, got a string");
      assertRefused(http.send(method, "/config", "{}"), 400, "Bad Request: the body is an empty JSON object");
      assertRefused(http.send(method, "/config", ""), 400,
          "Bad Request: the body is empty, a JSON object is expected");
      assertRefused(http.send(method, "/config", large), 413,
          "Payload Too Large: the body has 65544 bytes, at most 65536 are accepted");
      // too large to be worth reading: refused at once
      assertRefused(http.raw(method + " /config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
          + "Content-Length: 10000000\r\n\r\n{\"a\":"), 413,
          "Payload Too Large: the body has 10000000 bytes, at most 65536 are accepted");
      assertRefused(http.raw(method + " /config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 411,
          "Length Required: send the JSON body with a Content-Length");
      assertRefused(http.raw(method + " /config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
          + "Transfer-Encoding: chunked\r\n\r\nb\r\n{\"ttl\": 20}\r\n0\r\n\r\n"), 411,
          "Length Required: send the JSON body with a Content-Length");
      byte[] latin1 = "{\"a\":\"\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
      assertRefused(http.raw(method + " /config HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
          + latin1.length + "\r\n\r\n" + new String(latin1, StandardCharsets.ISO_8859_1)), 400,
          "Bad Request: the body is not valid UTF-8");
    }

    assertThat(data(CONFIG)).isEqualTo(before);
    assertThat(version(CONFIG)).isEqualTo(versionBefore);
    assertThat(wakeups()).isZero();
  }

  /** @param message the whole message, or its beginning followed by {@code *} */
  private static void assertRefused(Reply reply, int status, String message) {
    assertThat(reply.status()).as(reply.body()).isEqualTo(status);
    assertThat(reply.body()).doesNotContain("\n");
    if (message.endsWith("*")) {
      assertThat(reply.body()).startsWith(message.substring(0, message.length() - 1));
    } else {
      assertThat(reply.body()).isEqualTo(message);
    }
    assertThat(reply.header("Content-Type")).isEqualTo("text/html;charset=utf-8");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ZooKeeper unreachable: fail fast, never hang

  @Test
  void withoutZooKeeperEveryRouteFailsFast() throws Exception {
    CuratorFramework cutOff = CuratorFrameworkFactory.newClient("127.0.0.1:" + FreePorts.next(), 30_000, 1_000,
        new RetryForever(500));
    cutOff.start();
    try {
      TestHttp offline = new TestHttp(deploy(cutOff));
      long started = System.nanoTime();

      Reply cluster = offline.get("/cluster");
      assertThat(cluster.status()).isEqualTo(503);
      assertThat(cluster.body()).isEqualTo("Service Unavailable: not connected to ZooKeeper");
      assertThat(offline.get("/history").status()).isEqualTo(503);
      Reply config = offline.get("/config");
      assertThat(config.status()).isEqualTo(502);
      assertThat(config.body()).isEqualTo("Bad Gateway: cannot read the config: ZooKeeper: connectionloss");
      assertThat(offline.send("PATCH", "/config", "{\"ttl\":20}").status()).isEqualTo(503);
      assertThat(offline.send("PUT", "/config", "{\"ttl\":20}").status()).isEqualTo(502);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(3_000);
    } finally {
      cutOff.close();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  private int wakeups() throws InterruptedException {
    Thread.sleep(100); // the wake-up is sent before the reply, delivered on the event loop
    return wakeups.get();
  }

  private static void readOnly(String path) throws Exception {
    loader.setACL().withACL(List.of(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE))).forPath(path);
  }

  private static String data(String path) throws Exception {
    return new String(loader.getData().forPath(path), StandardCharsets.UTF_8);
  }

  private static int version(String path) throws Exception {
    Stat stat = loader.checkExists().forPath(path);
    return stat.getVersion();
  }

  private static JsonNode fixture(String name) throws Exception {
    try (InputStream in = ClusterRoutesTest.class.getResourceAsStream(FIXTURES + name)) {
      return JSON.readTree(in);
    }
  }

  /** The reference tree, with its ephemeral znodes owned by the loader's session. */
  private static void loadReferenceTree() throws Exception {
    if (loader.checkExists().forPath("/service") != null) {
      loader.delete().deletingChildrenIfNeeded().forPath("/service");
    }
    ArrayNode nodes = (ArrayNode) fixture("zk_tree.json");
    for (JsonNode node : nodes) {
      String path = node.get("path").asText();
      byte[] data = node.hasNonNull("data_b64") ? Base64.getDecoder().decode(node.get("data_b64").asText())
          : node.path("data").asText("").getBytes(StandardCharsets.UTF_8);
      loader.create()
          .withMode(node.get("ephemeral").asBoolean() ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT)
          .forPath(path, data);
    }
  }
}
