package io.pgha.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Fabric8's mock Kubernetes API server (CRUD mode: it stores what is created and patched) on 127.0.0.1, and plain
 * HTTP calls to create a pod and read its labels back, so that the test sees what a real API server would keep.
 */
public final class KubeApi implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final int port;
  private KubernetesMockServer server;
  private final java.util.List<Patch> patches = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A PATCH as the server received it: wall-clock ms, path and body. */
  public record Patch(long atEpochMs, String path, String body) {}

  private KubeApi(int port) {
    this.port = port;
  }

  /** A server on a free port, not started: {@link #start()} it (the labeller may be pointed at it before). */
  public static KubeApi onFreePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return new KubeApi(s.getLocalPort());
    }
  }

  public KubeApi start() throws IOException {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher() {
          @Override
          public io.fabric8.mockwebserver.http.MockResponse dispatch(io.fabric8.mockwebserver.http.RecordedRequest r) {
            if ("PATCH".equals(r.getMethod())) { // getBytes() leaves the body for the CRUD dispatcher
              patches.add(new Patch(System.currentTimeMillis(), r.getPath(), r.getBody() == null ? ""
                  : new String(r.getBody().getBytes(), java.nio.charset.StandardCharsets.UTF_8)));
            }
            return super.dispatch(r);
          }
        }, false);
    server.init(InetAddress.getLoopbackAddress(), port);
    return this;
  }

  public void stop() {
    if (server != null) {
      server.destroy();
      server = null;
    }
  }

  /** Every PATCH received so far, in order of arrival. */
  public java.util.List<Patch> patches() {
    return java.util.List.copyOf(patches);
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  public void createPod(String namespace, String name, Map<String, String> labels) throws Exception {
    Map<String, Object> pod = Map.of("apiVersion", "v1", "kind", "Pod",
        "metadata", Map.of("name", name, "namespace", namespace, "labels", labels),
        "spec", Map.of("containers", java.util.List.of(Map.of("name", "pgha", "image", "pgha:latest"))));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url() + "/api/v1/namespaces/" + namespace
            + "/pods")).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(pod))).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("create pod: HTTP " + r.statusCode() + " " + r.body());
    }
  }

  /** The pod's labels, sorted; empty when the pod or the server is not there. */
  public Map<String, String> labels(String namespace, String name) {
    Map<String, String> out = new TreeMap<>();
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url() + "/api/v1/namespaces/" + namespace
          + "/pods/" + name)).timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return out;
      }
      JsonNode labels = JSON.readTree(r.body()).path("metadata").path("labels");
      // a JSON merge patch's null removes a label (RFC 7386, as the API server does); Fabric8's mock may keep a
      // null: the same absence
      labels.fields().forEachRemaining(e -> {
        if (!e.getValue().isNull()) {
          out.put(e.getKey(), e.getValue().asText());
        }
      });
    } catch (IOException e) {
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return out;
  }

  @Override
  public void close() {
    stop();
  }
}
