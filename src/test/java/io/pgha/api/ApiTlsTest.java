package io.pgha.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgha.bus.LocalCodec;
import io.pgha.config.Credentials;
import io.pgha.config.RestApiConfig;
import io.pgha.model.NodeStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS for the REST API (§5.1, §5.2) with a CA, server and client certificates made by {@code openssl} for this
 * test: server certificate and key (clear, PKCS#8-encrypted, legacy-encrypted, in the certfile), and each
 * {@code verify_client} mode.
 */
class ApiTlsTest {
  private static final String PASSWORD = "k3y-pass";
  private static final String AUTH = "Basic "
      + Base64.getEncoder().encodeToString("patroni:s3cret".getBytes(StandardCharsets.UTF_8));

  @TempDir
  static Path pki;

  private Vertx vertx;
  private int port;

  private record Reply(int status, String body) {}

  @BeforeAll
  static void makeCertificates() throws Exception {
    Files.writeString(pki.resolve("ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
    Files.writeString(pki.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        + "extendedKeyUsage=serverAuth\n");
    Files.writeString(pki.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
    for (String ca : List.of("ca", "rogue-ca")) {
      openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "2",
          "-subj", "/CN=pgha test " + ca, "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    }
    issue("server", "ca", "/CN=localhost", "server.ext", 1);
    issue("client", "ca", "/CN=patronictl", "client.ext", 2);
    issue("rogue-client", "rogue-ca", "/CN=intruder", "client.ext", 3);
    openssl("pkcs8", "-topk8", "-in", "server.key", "-out", "server-pkcs8-encrypted.key", "-v2", "aes-256-cbc",
        "-passout", "pass:" + PASSWORD);
    openssl("rsa", "-in", "server.key", "-aes256", "-traditional", "-out", "server-legacy-encrypted.key",
        "-passout", "pass:" + PASSWORD);
    Files.writeString(pki.resolve("server-combined.pem"),
        Files.readString(pki.resolve("server.crt")) + Files.readString(pki.resolve("server.key")));
    assertThat(Files.readString(pki.resolve("server-pkcs8-encrypted.key"))).contains("BEGIN ENCRYPTED PRIVATE KEY");
    assertThat(Files.readString(pki.resolve("server-legacy-encrypted.key"))).contains("Proc-Type: 4,ENCRYPTED");
  }

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
  void httpsWithTheTestCaAndAuthOnUnsafeRequests() throws Exception {
    start(tls("server.crt", "server.key", null, null, "none"));

    Reply status = call(client(true, null), HttpMethod.GET, "/patroni", null);
    assertThat(status.status()).isEqualTo(200);
    assertThat(status.body()).contains("\"role\":\"primary\"");
    assertThat(call(client(true, null), HttpMethod.POST, "/restart", null).status()).isEqualTo(401);
    assertThat(call(client(true, null), HttpMethod.POST, "/restart", AUTH).status()).isEqualTo(200);

    // the server is who the CA says: a client that does not trust the test CA refuses it
    assertThatThrownBy(() -> call(client(false, null), HttpMethod.GET, "/patroni", null))
        .isInstanceOf(ExecutionException.class);
    // and it speaks TLS only
    assertThatThrownBy(() -> new TestHttp(port).get("/patroni")).isInstanceOf(Exception.class);
  }

  @Test
  void verifyClientOptionalDemandsACertificateForUnsafeRequestsOnly() throws Exception {
    start(tls("server.crt", "server.key", null, "ca.crt", "optional"));

    assertThat(call(client(true, null), HttpMethod.GET, "/patroni", null).status()).isEqualTo(200);
    Reply noCert = call(client(true, null), HttpMethod.POST, "/restart", AUTH);
    assertThat(noCert.status()).isEqualTo(403);
    assertThat(noCert.body()).isEqualTo("client certificate required");
    assertThat(call(client(true, "client"), HttpMethod.POST, "/restart", null).status()).isEqualTo(401);
    assertThat(call(client(true, "client"), HttpMethod.POST, "/restart", AUTH).status()).isEqualTo(200);
    // a certificate from another CA is not one the server asked for: the client sends none
    Reply rogue = call(client(true, "rogue-client"), HttpMethod.POST, "/restart", AUTH);
    assertThat(rogue.status()).isEqualTo(403);
    assertThat(rogue.body()).isEqualTo("client certificate required");
  }

  @Test
  void verifyClientRequiredRefusesConnectionsWithoutATrustedCertificate() throws Exception {
    start(tls("server.crt", "server.key", null, "ca.crt", "required"));

    assertThatThrownBy(() -> call(client(true, null), HttpMethod.GET, "/patroni", null))
        .isInstanceOf(ExecutionException.class);
    assertThatThrownBy(() -> call(client(true, "rogue-client"), HttpMethod.GET, "/patroni", null))
        .isInstanceOf(ExecutionException.class);
    assertThat(call(client(true, "client"), HttpMethod.GET, "/patroni", null).status()).isEqualTo(200);
    assertThat(call(client(true, "client"), HttpMethod.POST, "/restart", AUTH).status()).isEqualTo(200);
  }

  @Test
  void encryptedKeysAreDecryptedWithTheKeyfilePassword() throws Exception {
    for (String key : List.of("server-pkcs8-encrypted.key", "server-legacy-encrypted.key")) {
      start(tls("server.crt", key, PASSWORD, null, null));
      assertThat(call(client(true, null), HttpMethod.GET, "/patroni", null).status()).as(key).isEqualTo(200);
    }
  }

  @Test
  void theKeyMayBeInTheCertfile() throws Exception {
    start(tls("server-combined.pem", null, null, null, null));

    assertThat(call(client(true, null), HttpMethod.GET, "/patroni", null).status()).isEqualTo(200);
  }

  @Test
  void aWrongOrMissingPasswordStopsTheStart() {
    assertThatThrownBy(() -> start(tls("server.crt", "server-pkcs8-encrypted.key", "wrong", null, null)))
        .hasMessageContaining("wrong restapi.keyfile_password?");
    assertThatThrownBy(() -> start(tls("server.crt", "server-legacy-encrypted.key", "wrong", null, null)))
        .hasMessageContaining("wrong restapi.keyfile_password?");
    assertThatThrownBy(() -> start(tls("server.crt", "server-pkcs8-encrypted.key", null, null, null)))
        .hasMessageContaining("is encrypted: set restapi.keyfile_password");
    assertThatThrownBy(() -> start(tls("server.key", "server.key", null, null, null)))
        .hasMessageContaining("holds no PEM certificate");
  }

  // ---------------------------------------------------------------------------------------------------------------

  private void start(RestApiConfig cfg) throws Exception {
    ApiVerticle api = ApiVerticle.secured(cfg, Statuses.leader(), Set::of);
    api.route(HttpMethod.POST, "restart", req -> api.text(req, 200, "restarted"));
    vertx.deployVerticle(api).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    port = api.actualPort();
  }

  private static RestApiConfig tls(String cert, String key, String password, String ca, String verify) {
    return new RestApiConfig("127.0.0.1", 0, "127.0.0.1:8008", new Credentials("patroni", "s3cret"),
        file(cert), key == null ? null : file(key), password, ca == null ? null : file(ca), verify, List.of(), false);
  }

  /**
   * @param trustTestCa trust the test CA (else the JDK's default trust store)
   * @param certificate name of the client certificate to present, or null
   */
  private HttpClient client(boolean trustTestCa, String certificate) {
    HttpClientOptions options = new HttpClientOptions().setSsl(true).setVerifyHost(true).setKeepAlive(false)
        .setConnectTimeout(5_000);
    if (trustTestCa) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(file("ca.crt")));
    }
    if (certificate != null) {
      options.setKeyCertOptions(new PemKeyCertOptions().setCertPath(file(certificate + ".crt"))
          .setKeyPath(file(certificate + ".key")));
    }
    return vertx.createHttpClient(options);
  }

  private Reply call(HttpClient client, HttpMethod method, String path, String authorization) throws Exception {
    RequestOptions request = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path);
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    Future<Reply> reply = client.request(request)
        .compose(req -> method == HttpMethod.GET ? req.send() : req.send(Buffer.buffer("{}")))
        .compose(resp -> resp.body().map(body -> new Reply(resp.statusCode(), body.toString())));
    return reply.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static String file(String name) {
    return pki.resolve(name).toString();
  }

  private static void issue(String name, String ca, String subject, String extensions, int serial) throws Exception {
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject);
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-set_serial",
        String.valueOf(serial), "-out", name + ".crt", "-days", "2", "-extfile", extensions);
  }

  private static void openssl(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).directory(pki.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", command) + "\n" + output).isZero();
  }
}
