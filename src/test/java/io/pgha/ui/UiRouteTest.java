package io.pgha.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.api.ApiVerticle;
import io.pgha.api.TestHttp;
import io.pgha.api.TestHttp.Reply;
import io.pgha.config.Credentials;
import io.pgha.config.RestApiConfig;
import io.pgha.model.NodeStatus;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code GET /ui/} and the members' CORS over real HTTP connections to an {@link ApiVerticle}. */
class UiRouteTest {
  static final String MEMBER = "http://127.0.0.1:28009";
  static final List<String> API_URLS = new CopyOnWriteArrayList<>(
      List.of("http://127.0.0.1:28008/patroni", MEMBER + "/patroni", "https://Pg3.Example:443/patroni"));
  static Vertx vertx;
  static ApiVerticle api;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    api = UiRoute.install(vertx, new ApiVerticle("127.0.0.1", 0, status()), () -> API_URLS);
    vertx.deployVerticle(api).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @CsvSource({
      "/ui/, text/html;charset=utf-8, <script src=\"app.js\"",
      "/ui/index.html, text/html;charset=utf-8, <link rel=\"stylesheet\" href=\"app.css\">",
      "/ui/app.js, text/javascript;charset=utf-8, new EventSource(",
      "/ui/app.css, text/css;charset=utf-8, tr.leader"})
  void servesEachFileWithItsTypeCachingAndPolicy(String path, String type, String content) throws Exception {
    Reply r = get(path);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("content-type")).isEqualTo(type);
    assertThat(r.body()).contains(content);
    assertThat(r.header("etag")).matches("\"[0-9a-f]{24}\"");
    assertThat(r.header("cache-control")).isEqualTo("no-cache");
    assertThat(r.header("x-content-type-options")).isEqualTo("nosniff");
    String csp = r.header("content-security-policy");
    assertThat(csp).startsWith("default-src 'none'; script-src 'self'; style-src 'self';")
        .contains("frame-ancestors 'none'").doesNotContain("unsafe-inline").doesNotContain("unsafe-eval")
        .contains("connect-src 'self' http://127.0.0.1:28008 http://127.0.0.1:28009 https://pg3.example;");
  }

  @Test
  void revalidationWithTheSameTagIs304WithoutBody() throws Exception {
    String etag = get("/ui/app.js").header("etag");
    Reply again = get("/ui/app.js", "If-None-Match", etag);
    assertThat(again.status()).isEqualTo(304);
    assertThat(again.body()).isEmpty();
    assertThat(again.header("etag")).isEqualTo(etag);
    assertThat(get("/ui/app.js", "If-None-Match", "W/" + etag).status()).isEqualTo(304);
    assertThat(get("/ui/app.js", "If-None-Match", "\"other\"").status()).isEqualTo(200);
    assertThat(get("/ui/app.css", "If-None-Match", etag).status()).as("another file's tag").isEqualTo(200);
    assertThat(get("/ui/app.js", "If-None-Match", etag, "Cache-Control", "no-cache").status())
        .as("an end-to-end reload").isEqualTo(200);
  }

  @Test
  void lastModifiedRevalidatesToo() throws Exception {
    Reply first = get("/ui/");
    String modified = first.header("last-modified");
    assertThat(modified).as("an HTTP date (IMF-fixdate: a two-digit day)")
        .matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
    Reply again = get("/ui/", "If-Modified-Since", modified);
    assertThat(again.status()).isEqualTo(304);
    assertThat(again.body()).isEmpty();
    assertThat(get("/ui/", "If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT").status()).isEqualTo(200);
  }

  @Test
  void theBarePrefixRedirectsToTheDirectory() throws Exception {
    Reply r = get("/ui?x=1");
    assertThat(r.status()).isEqualTo(301);
    assertThat(r.header("location")).isEqualTo("/ui/?x=1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/ui/../pom.xml", "/ui/..%2f..%2fpom.xml", "/ui/../../../../etc/passwd", "/ui/./app.js",
      "/ui//app.js", "/ui/io/pgha/ui/app.js", "/ui/UiRoute.class", "/ui/app.js/", "/ui/missing.png", "/ui/%zz", "/ui/%00app.js", "/uix/"})
  void anythingButTheThreeFilesIsNotFound(String path) throws Exception {
    Reply r = get(path);
    if (path.startsWith("/uix")) { // another first segment: Patroni's health check, not this route
      assertThat(r.header("content-security-policy")).isNull();
      return;
    }
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.body()).isEqualTo("Not Found\n");
  }

  @Test
  void patronisRoutesAreUntouched() throws Exception {
    Reply r = get("/patroni");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("content-type")).isEqualTo("application/json");
    assertThat(r.header("access-control-allow-origin")).isNull();
    assertThat(raw("OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status())
        .as("HAProxy's check stays a health check (a replica: not the primary)").isEqualTo(503);
  }

  @Test
  void aMembersOriginMayReadWithCredentials() throws Exception {
    Reply r = get("/patroni", "Origin", MEMBER);
    assertThat(r.header("access-control-allow-origin")).isEqualTo(MEMBER);
    assertThat(r.header("access-control-allow-credentials")).isEqualTo("true");
    assertThat(r.header("vary")).isEqualTo("Origin");
    assertThat(get("/ui/", "Origin", "https://pg3.example").header("access-control-allow-origin"))
        .as("default port dropped, host case ignored").isEqualTo("https://pg3.example");
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://evil.example", "http://127.0.0.1:28010", "https://127.0.0.1:28009", "null"})
  void anyOtherOriginGetsNoCorsHeaders(String origin) throws Exception {
    Reply r = get("/patroni", "Origin", origin);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("access-control-allow-origin")).isNull();
    Reply preflight = preflight(origin);
    assertThat(preflight.status()).as("no preflight answer: the health check answers").isEqualTo(503);
    assertThat(preflight.header("access-control-allow-methods")).isNull();
  }

  @Test
  void aMembersPreflightIsAnswered() throws Exception {
    Reply r = preflight(MEMBER);
    assertThat(r.status()).isEqualTo(204);
    assertThat(r.header("access-control-allow-origin")).isEqualTo(MEMBER);
    assertThat(r.header("access-control-allow-methods")).contains("POST").contains("PATCH");
    assertThat(r.header("access-control-allow-headers")).containsIgnoringCase("content-type");
  }

  @Test
  void aJoiningMemberIsAllowedAndADeadOnesPageStillReachesTheOthers() throws Exception {
    String joined = "http://127.0.0.1:28011";
    assertThat(get("/patroni", "Origin", joined).header("access-control-allow-origin")).isNull();
    API_URLS.add(joined + "/patroni");
    assertThat(get("/patroni", "Origin", joined).header("access-control-allow-origin")).isEqualTo(joined);
    assertThat(get("/ui/").header("content-security-policy")).contains(joined);
    API_URLS.remove(joined + "/patroni"); // its agent died: the member key expired
    assertThat(get("/patroni", "Origin", joined).header("access-control-allow-origin")).isEqualTo(joined);
  }

  @Test
  void rememberedOriginsAreBounded() {
    List<String> urls = new java.util.ArrayList<>();
    MemberOrigins origins = new MemberOrigins(() -> urls);
    for (int i = 0; i < MemberOrigins.REMEMBERED_MAX + 10; i++) {
      urls.clear();
      urls.add("http://10.0.0." + i + ":8008/patroni");
      origins.current();
    }
    assertThat(origins.current()).hasSize(MemberOrigins.REMEMBERED_MAX)
        .doesNotContain("http://10.0.0.0:8008").contains("http://10.0.0.73:8008");
  }

  @Test
  void withBasicAuthThePageLoadsAMembersPreflightPassesAndItsRequestMeetsTheChallenge() throws Exception {
    RestApiConfig cfg = new RestApiConfig("127.0.0.1", 0, "127.0.0.1:8008", new Credentials("patroni", "s3cret"), null,
        null, null, null, null, List.of(), false);
    ApiVerticle secured = UiRoute.install(vertx, ApiVerticle.secured(cfg, status(), Set::of), () -> API_URLS);
    vertx.deployVerticle(secured).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    int port = secured.actualPort();
    assertThat(raw(port, "GET /ui/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status())
        .as("GETs are never checked: the page loads without credentials").isEqualTo(200);
    Reply preflight = raw(port, "OPTIONS /restart HTTP/1.1\r\nHost: x\r\nOrigin: " + MEMBER
        + "\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization,content-type"
        + "\r\nConnection: close\r\n\r\n");
    assertThat(preflight.status()).as("a preflight carries no credentials and must not be refused").isEqualTo(204);
    assertThat(preflight.header("access-control-allow-headers")).as("the page sends its own Authorization header")
        .containsIgnoringCase("authorization").containsIgnoringCase("content-type");
    String basic = java.util.Base64.getEncoder().encodeToString("patroni:s3cret".getBytes(
        java.nio.charset.StandardCharsets.UTF_8));
    Reply authorized = raw(port, "POST /restart HTTP/1.1\r\nHost: x\r\nOrigin: " + MEMBER + "\r\nAuthorization: Basic "
        + basic + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assertThat(authorized.status()).as("the header passes access control (no restart route here: 501)").isEqualTo(501);
    assertThat(authorized.header("access-control-allow-origin")).isEqualTo(MEMBER);
    Reply other = raw(port, "OPTIONS /restart HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example"
        + "\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization"
        + "\r\nConnection: close\r\n\r\n");
    assertThat(other.header("access-control-allow-headers")).as("no other origin may send it").isNull();
    Reply post = raw(port, "POST /restart HTTP/1.1\r\nHost: x\r\nOrigin: " + MEMBER
        + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    assertThat(post.status()).isEqualTo(401);
    assertThat(post.header("www-authenticate")).isEqualTo("Basic realm=\"Patroni\"");
    assertThat(post.header("access-control-allow-origin")).as("the page can read why").isEqualTo(MEMBER);
  }

  @ParameterizedTest
  @CsvSource({
      "http://127.0.0.1:8008/patroni, http://127.0.0.1:8008",
      "HTTPS://Node1.Example:8443/, https://node1.example:8443",
      "http://node1:80/patroni, http://node1",
      "https://[::1]:8008/patroni, https://[::1]:8008",
      "ftp://node1/, ",
      "127.0.0.1:8008, ",
      "'', "})
  void originOfAnApiUrl(String url, String origin) {
    assertThat(MemberOrigins.origin(url)).isEqualTo(origin);
  }

  // ------------------------------------------------------------------------------------------------------ HTTP

  static Reply preflight(String origin) throws Exception {
    return raw(api.actualPort(), "OPTIONS /switchover HTTP/1.1\r\nHost: x\r\nOrigin: " + origin + "\r\nAccess-Control-Request-Method: POST"
        + "\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n");
  }

  /** A GET with the path sent exactly as written (no client normalises {@code ../} away). */
  static Reply get(String path, String... headers) throws Exception {
    StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (int i = 0; i < headers.length; i += 2) {
      req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    return raw(req.append("Connection: close\r\n\r\n").toString());
  }

  static Reply raw(String request) throws Exception {
    return raw(api.actualPort(), request);
  }

  static Reply raw(int port, String request) throws Exception {
    return new TestHttp(port).raw(request);
  }

  private static NodeStatus status() {
    return new NodeStatus("pg-a", "ui", "3.0.2", "running", "replica", null, 150018, true, null, null, null, null,
        null, 1, null, List.of(), false, true, false, false, null, null, 0, false, System.currentTimeMillis() + 30_000,
        30, new ObjectMapper().createObjectNode(), false, 1048576L);
  }
}
