package io.pgha.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.api.TestHttp.Reply;
import io.pgha.bus.LocalCodec;
import io.pgha.config.Credentials;
import io.pgha.config.RestApiConfig;
import io.pgha.model.NodeStatus;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** §5.2 over plain HTTP: allowlist, allowlist_include_members and basic auth, in Patroni's order. */
class ApiSecurityTest {
  /** Every request Patroni guards with {@code @check_access}. */
  private static final List<String[]> UNSAFE = List.of(
      new String[] {"PATCH", "config"}, new String[] {"PUT", "config"},
      new String[] {"POST", "reload"}, new String[] {"POST", "restart"}, new String[] {"POST", "reinitialize"},
      new String[] {"POST", "switchover"}, new String[] {"POST", "failover"}, new String[] {"POST", "failsafe"},
      new String[] {"POST", "citus"}, new String[] {"POST", "sigterm"},
      new String[] {"DELETE", "restart"}, new String[] {"DELETE", "switchover"});
  private static final String GOOD = "Basic " + base64("patroni:s3cret");

  private Vertx vertx;
  private TestHttp http;
  /** "METHOD segment" of each request that reached its handler. */
  private final List<String> reached = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    vertx.eventBus().registerDefaultCodec(NodeStatus.class, new LocalCodec<>(NodeStatus.class));
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void everyUnsafeRequestNeedsTheCredentials() throws Exception {
    start(config(List.of(), false, true), Set::of);

    for (String[] request : UNSAFE) {
      String method = request[0];
      String path = "/" + request[1];
      Reply none = http.send(method, path, "{\"a\":1}");
      assertThat(none.status()).as(method + path).isEqualTo(401);
      assertThat(none.body()).isEqualTo("no auth header received");
      assertThat(none.header("WWW-Authenticate")).isEqualTo("Basic realm=\"Patroni\"");

      for (String wrong : List.of("Basic " + base64("patroni:wrong"), "Basic " + base64("other:s3cret"),
          "Bearer " + base64("patroni:s3cret"), GOOD.toLowerCase(), "")) {
        Reply refused = http.send(method, path, "{\"a\":1}", "Authorization", wrong);
        assertThat(refused.status()).as(method + path + " " + wrong).isEqualTo(401);
        assertThat(refused.body()).isEqualTo("not authenticated");
        assertThat(refused.header("WWW-Authenticate")).isEqualTo("Basic realm=\"Patroni\"");
      }
      assertThat(reached).as(method + path).isEmpty();

      Reply ok = http.send(method, path, "{\"a\":1}", "Authorization", GOOD);
      assertThat(ok.status()).as(method + path).isEqualTo(200);
      assertThat(reached).containsExactly(method + " " + request[1]);
      reached.clear();
    }
  }

  @Test
  void safeRequestsAreNotChecked() throws Exception {
    start(config(List.of("10.0.0.0/8"), true, true), () -> Set.of("10.1.1.1"));

    assertThat(http.get("/patroni").status()).isEqualTo(200);
    assertThat(http.get("/primary").status()).isEqualTo(200);
    assertThat(http.send("HEAD", "/", null).status()).isEqualTo(200);
    assertThat(http.send("OPTIONS", "/replica", null).status()).isEqualTo(503);
    assertThat(http.get("/config").status()).isEqualTo(200);
    assertThat(http.send("POST", "/mpp", "{}").status()).isEqualTo(200); // not guarded by Patroni either
    assertThat(http.send("POST", "/nonexistent", "{}").status()).isEqualTo(501);
    assertThat(reached).containsExactly("GET config", "POST mpp");
  }

  @Test
  void outsideTheAllowlistIs403BeforeAnyAuthentication() throws Exception {
    start(config(List.of("10.0.0.0/8", "192.168.7.7", "::1/128"), false, true), Set::of);

    Reply noAuth = http.send("POST", "/restart", "{}");
    Reply withAuth = http.send("POST", "/restart", "{}", "Authorization", GOOD);

    assertThat(noAuth.status()).isEqualTo(403);
    assertThat(noAuth.body()).isEqualTo("Access is denied");
    assertThat(noAuth.header("WWW-Authenticate")).isNull();
    assertThat(withAuth.status()).isEqualTo(403);
    assertThat(reached).isEmpty();
  }

  @Test
  void insideTheAllowlistAuthenticationStillApplies() throws Exception {
    start(config(List.of("10.0.0.0/8", "127.0.0.0/255.0.0.0"), false, true), Set::of);

    assertThat(http.send("POST", "/restart", "{}").status()).isEqualTo(401);
    assertThat(http.send("POST", "/restart", "{}", "Authorization", GOOD).status()).isEqualTo(200);
  }

  @Test
  void allowlistHostNamesAreResolvedAndTheBodyStillReachesTheHandler() throws Exception {
    start(config(List.of("no-such-host.invalid", "localhost"), false, false), Set::of);

    Reply reply = http.send("PATCH", "/config", "{\"ttl\":20}");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEqualTo("{\"ttl\":20}"); // echoed by the handler after the asynchronous check
  }

  @Test
  void allowlistOfUnresolvableNamesDeniesEverything() throws Exception {
    start(config(List.of("no-such-host.invalid", "not a network/99"), false, false), Set::of);

    assertThat(http.send("PATCH", "/config", "{\"ttl\":20}").status()).isEqualTo(403);
  }

  @Test
  void membersHostsExtendTheAllowlist() throws Exception {
    List<Set<String>> members = new ArrayList<>(List.of(Set.of("10.9.9.9", "db1.invalid")));
    start(config(List.of(), true, false), () -> members.get(0));

    assertThat(http.send("POST", "/switchover", "{}").status()).isEqualTo(403);
    members.set(0, Set.of("10.9.9.9", "127.0.0.1"));
    assertThat(http.send("POST", "/switchover", "{}").status()).isEqualTo(200);
    members.set(0, Set.of("localhost"));
    assertThat(http.send("POST", "/switchover", "{}").status()).isEqualTo(200);
    members.set(0, Set.of());
    assertThat(http.send("POST", "/switchover", "{}").status()).isEqualTo(403);
    // POST /failsafe ignores the members part: with no allowlist of its own it is not restricted
    assertThat(http.send("POST", "/failsafe", "{}").status()).isEqualTo(200);
  }

  @Test
  void failsafeChecksTheAllowlistWithoutTheMembers() throws Exception {
    start(config(List.of("10.0.0.0/8"), true, false), () -> Set.of("127.0.0.1"));

    assertThat(http.send("POST", "/switchover", "{}").status()).isEqualTo(200);
    assertThat(http.send("POST", "/failsafe", "{}").status()).isEqualTo(403);
  }

  @ParameterizedTest
  @CsvSource({
      "10.0.0.0/8, 10.255.1.2, true", "10.0.0.0/8, 11.0.0.1, false", "10.1.2.3/8, 10.9.9.9, true",
      "192.168.1.0/255.255.255.0, 192.168.1.77, true", "192.168.1.0/255.255.255.0, 192.168.2.1, false",
      "192.168.1.0/24, ::ffff:192.168.1.5, true", "::1/128, ::1, true", "fd00::/8, fd12:3456::1, true",
      "fd00::/8, fe80::1, false", "10.0.0.0/8, ::1, false", "0.0.0.0/0, 8.8.8.8, true", "[::1]/128, ::1, true"})
  void networks(String cidr, String ip, boolean contained) {
    assertThat(AccessControl.Network.parse(cidr).contains(AccessControl.ipLiteral(ip))).isEqualTo(contained);
  }

  @Test
  void invalidNetworksAreRejected() {
    assertThat(AccessControl.Network.parse("10.0.0.0/33")).isNull();
    assertThat(AccessControl.Network.parse("10.0.0.0/255.0.255.0")).isNull();
    assertThat(AccessControl.Network.parse("host/8")).isNull();
  }

  @Test
  void apiUrlHostsAreTheHostParts() {
    assertThat(ApiVerticle.apiUrlHosts(List.of("http://10.0.0.11:8008/patroni", "https://DB2.example.com/patroni",
        "http://[fd00::2]:8008/patroni", "http://user:pw@db3:8008", ""))).containsExactly(
        "10.0.0.11", "db2.example.com", "fd00::2", "db3");
  }

  // ---------------------------------------------------------------------------------------------------------------

  private void start(RestApiConfig cfg, Supplier<Set<String>> memberHosts) throws Exception {
    ApiVerticle api = ApiVerticle.secured(cfg, Statuses.leader(), memberHosts);
    for (String[] request : UNSAFE) {
      route(api, request[0], request[1]);
    }
    route(api, "GET", "config");
    route(api, "POST", "mpp");
    vertx.deployVerticle(api).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    http = new TestHttp(api.actualPort());
  }

  /** A handler that records the call and echoes the body. */
  private void route(ApiVerticle api, String method, String segment) {
    api.route(HttpMethod.valueOf(method), segment, req -> {
      reached.add(method + " " + segment);
      req.body().onSuccess(body -> api.json(req, 200, body.length() == 0 ? Buffer.buffer("{}") : body));
    });
  }

  private static RestApiConfig config(List<String> allowlist, boolean includeMembers, boolean auth) {
    return new RestApiConfig("127.0.0.1", 0, "127.0.0.1:8008", auth ? new Credentials("patroni", "s3cret") : null,
        null, null, null, null, null, allowlist, includeMembers);
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
