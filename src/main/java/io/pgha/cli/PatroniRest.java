package io.pgha.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.api.ServerTls;
import io.pgha.config.Credentials;
import io.pgha.dcs.ClusterSnapshot;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Calls to members' REST APIs as patronictl's {@code PatroniRequest} makes them: the URL is the member's
 * {@code api_url} with its path replaced by the endpoint, the body is {@code json.dumps} of the request and no
 * Content-Type is sent. Basic auth from {@code ctl.authentication} (else {@code restapi.authentication}); the server
 * is verified against {@code ctl.cacert} (else {@code restapi.cafile}, else the JDK's CAs) unless {@code -k} /
 * {@code ctl.insecure}; a client certificate comes from {@code ctl.certfile}/{@code keyfile}/{@code keyfile_password}
 * (else the {@code restapi} ones, as patronictl 3.0.2 does).
 */
final class PatroniRest {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  /** A switchover waits up to 2 * max(10, loop_wait) s and a restart for PostgreSQL: generous but bounded. */
  private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);

  /** TLS and auth settings for the client. */
  record Settings(String basicAuth, String cacert, String certfile, String keyfile, String keyfilePassword,
      boolean insecure) {}

  /** A reply: status code and body text. */
  record Response(int status, String body) {}

  private final Settings settings;
  private HttpClient http;

  PatroniRest(Settings settings) {
    this.settings = settings;
  }

  /**
   * {@code method} on {@code endpoint} of the member (its {@code api_url} itself when {@code endpoint} is null).
   *
   * @throws IOException when the member has no usable {@code api_url} or does not answer
   */
  Response request(ClusterSnapshot.Member member, String method, String endpoint, JsonNode body)
      throws IOException {
    String apiUrl = member.apiUrl();
    if (apiUrl == null || apiUrl.isEmpty()) {
      throw new IOException("member " + member.name() + " has no api_url");
    }
    URI uri;
    try {
      URI base = new URI(apiUrl);
      uri = endpoint == null ? base : new URI(base.getScheme(), base.getRawAuthority(), "/" + endpoint, null, null);
    } catch (URISyntaxException e) {
      throw new IOException("invalid api_url " + apiUrl + " of member " + member.name());
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(Py.json(body), StandardCharsets.UTF_8));
    request.header("User-Agent", "pghactl/" + Ctl.version());
    if (settings.basicAuth() != null) {
      request.header("Authorization", Credentials.basicAuthorization(settings.basicAuth()));
    }
    try {
      HttpResponse<String> response = client().send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(response.statusCode(), response.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage());
    }
  }

  private HttpClient client() throws IOException {
    if (http == null) {
      HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(CONNECT_TIMEOUT);
      try {
        if (settings.insecure() || settings.cacert() != null || settings.certfile() != null) {
          builder.sslContext(sslContext());
        }
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot set up TLS for the REST API: " + e.getMessage(), e);
      }
      http = builder.build();
    }
    return http;
  }

  private SSLContext sslContext() throws GeneralSecurityException, IOException {
    TrustManager[] trust;
    if (settings.insecure()) {
      // the host name check is a separate switch of the JDK client: it must be set before the client exists
      System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
      trust = new TrustManager[] {new TrustAll()};
    } else if (settings.cacert() != null) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      try (InputStream in = Files.newInputStream(Path.of(settings.cacert()))) {
        int i = 0;
        for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          store.setCertificateEntry("ca" + i++, certificate);
        }
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      trust = factory.getTrustManagers();
    } else {
      trust = null;
    }
    KeyManager[] keys = null;
    if (settings.certfile() != null) {
      keys = clientKeys();
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys, trust, new SecureRandom());
    return context;
  }

  /** The client certificate and key, the key decrypted as the REST server decrypts its own. */
  private KeyManager[] clientKeys() throws GeneralSecurityException, IOException {
    String certText = Files.readString(Path.of(settings.certfile()), StandardCharsets.US_ASCII);
    String keyText = settings.keyfile() == null ? certText
        : Files.readString(Path.of(settings.keyfile()), StandardCharsets.US_ASCII);
    String key = ServerTls.clearKey(keyText, settings.keyfilePassword(), "ctl.keyfile");
    PemKeyCertOptions pem = new PemKeyCertOptions()
        .setCertValue(Buffer.buffer(certText))
        .setKeyValue(Buffer.buffer(key));
    try {
      return pem.getKeyManagerFactory(null).getKeyManagers();
    } catch (GeneralSecurityException | IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  /** {@code -k}: any server certificate is accepted. */
  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
