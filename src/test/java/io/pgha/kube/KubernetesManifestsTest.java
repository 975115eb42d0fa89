package io.pgha.kube;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/kubernetes/}: {@code kubectl apply --dry-run=client} accepts every manifest, and the manifests say
 * what deploy/README.md says (probe timings derived from ttl and loop_wait, role-selected Services, RBAC, PDB).
 *
 * <p>There is no Kubernetes API server here, and even a client dry run needs the API's discovery documents to map
 * kinds to resources: the test serves them (and 404 for every object) on 127.0.0.1, and runs kubectl with
 * {@code --validate=false} because it serves no OpenAPI schema. Skipped, with one line, without kubectl.
 */
class KubernetesManifestsTest {
  static final Path DIR = Path.of("deploy/kubernetes");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The kinds the manifests use, by group/version: what the fake discovery serves. */
  private static final Map<String, List<String[]>> RESOURCES = Map.of(
      "v1", List.of(new String[] {"configmaps", "ConfigMap"}, new String[] {"secrets", "Secret"},
          new String[] {"services", "Service"}, new String[] {"serviceaccounts", "ServiceAccount"},
          new String[] {"pods", "Pod"}),
      "apps/v1", List.<String[]>of(new String[] {"statefulsets", "StatefulSet"}),
      "rbac.authorization.k8s.io/v1", List.of(new String[] {"roles", "Role"},
          new String[] {"rolebindings", "RoleBinding"}),
      "policy/v1", List.<String[]>of(new String[] {"poddisruptionbudgets", "PodDisruptionBudget"}));

  @TempDir Path tmp;

  @Test
  void kubectlAcceptsTheManifests() throws Exception {
    String output = kubectlDryRun(DIR);

    for (String created : List.of("configmap/pgha-zookeeper", "configmap/pgha-config", "secret/pgha-credentials",
        "serviceaccount/pgha", "role.rbac.authorization.k8s.io/pgha-pod-labels",
        "rolebinding.rbac.authorization.k8s.io/pgha-pod-labels", "service/pgha-hs", "service/pgha-primary",
        "service/pgha-replicas", "statefulset.apps/pgha", "poddisruptionbudget.policy/pgha")) {
      assertThat(output).contains(created + " created (dry run)");
    }
  }

  /** The harness can fail: a manifest of a kind the API does not know is refused. */
  @Test
  void kubectlRefusesAnUnknownKind() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("broken"));
    Files.writeString(dir.resolve("x.yaml"), "apiVersion: apps/v1\nkind: StatefulSett\nmetadata:\n  name: x\n");

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> kubectlDryRun(dir))
        .hasMessageContaining("StatefulSett");
  }

  @Test
  void probesAreDerivedFromTtlAndLoopWaitAsCrunchyPgoDoes() throws Exception {
    JsonNode dcs = YAMLMapper.builder().build().readTree(configMap("pgha-config").path("data")
        .path("10-kubernetes.yml").asText()).path("bootstrap").path("dcs");
    int ttl = dcs.path("ttl").asInt();
    int loopWait = dcs.path("loop_wait").asInt();
    JsonNode container = statefulSet().path("spec").path("template").path("spec").path("containers").get(0);

    for (String probe : List.of("readinessProbe", "livenessProbe")) {
      JsonNode p = container.path(probe);
      assertThat(p.path("periodSeconds").asInt()).as(probe).isEqualTo(loopWait);
      assertThat(p.path("timeoutSeconds").asInt()).as(probe).isEqualTo(Math.max(1, loopWait / 2));
      assertThat(p.path("failureThreshold").asInt()).as(probe).isEqualTo(Math.max(1, ttl / loopWait));
      assertThat(p.path("httpGet").path("port").asText()).isEqualTo("api");
    }
    assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/readiness");
    assertThat(container.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/liveness");
  }

  @Test
  void theStatefulSetRunsThreeLabelledMembersWithRoomForAHandOver() throws Exception {
    JsonNode sts = statefulSet();
    JsonNode pod = sts.path("spec").path("template");
    JsonNode container = pod.path("spec").path("containers").get(0);

    assertThat(sts.path("spec").path("replicas").asInt()).isEqualTo(3);
    assertThat(sts.path("spec").path("volumeClaimTemplates").get(0).path("metadata").path("name").asText())
        .isEqualTo("pgdata");
    assertThat(ports(container)).containsEntry("postgresql", 5432).containsEntry("api", 8008);
    assertThat(pod.path("metadata").path("annotations").path("prometheus.io/scrape").asText()).isEqualTo("true");
    assertThat(pod.path("metadata").path("annotations").path("prometheus.io/port").asText()).isEqualTo("8008");
    Map<String, JsonNode> env = new HashMap<>();
    container.path("env").forEach(e -> env.put(e.path("name").asText(), e));
    assertThat(env.get("POD_NAME").path("valueFrom").path("fieldRef").path("fieldPath").asText())
        .isEqualTo("metadata.name");
    assertThat(env.get("POD_NAMESPACE").path("valueFrom").path("fieldRef").path("fieldPath").asText())
        .isEqualTo("metadata.namespace");
    assertThat(env.get("PATRONI_ZOOKEEPER_HOSTS").path("valueFrom").path("configMapKeyRef").path("name").asText())
        .isEqualTo("pgha-zookeeper");
    assertThat(configMap("pgha-zookeeper").path("data").has("zookeeper-hosts")).isTrue();
    // preStop (bounded at 30 s) + pg_ctl_timeout (60 s) fit in the grace period
    assertThat(pod.path("spec").path("terminationGracePeriodSeconds").asInt()).isGreaterThanOrEqualTo(30 + 60);
    assertThat(container.path("lifecycle").path("preStop").path("exec").path("command").toString())
        .contains("/switchover").contains("/primary");
    assertThat(pod.path("spec").path("serviceAccountName").asText()).isEqualTo("pgha");
  }

  @Test
  void servicesSelectTheRoleLabelsTheLabellerSets() throws Exception {
    JsonNode config = YAMLMapper.builder().build().readTree(configMap("pgha-config").path("data")
        .path("10-kubernetes.yml").asText()).path("kubernetes");
    Map<String, JsonNode> services = byName("Service");
    Map<String, String> podLabels = new LinkedHashMap<>();
    statefulSet().path("spec").path("template").path("metadata").path("labels").fields()
        .forEachRemaining(e -> podLabels.put(e.getKey(), e.getValue().asText()));
    String roleLabel = config.path("role_label").asText();

    assertThat(services.get("pgha-hs").path("spec").path("clusterIP").asText()).isEqualTo("None");
    assertThat(services.get("pgha-primary").path("spec").path("selector").path(roleLabel).asText())
        .isEqualTo(config.path("leader_label_value").asText());
    assertThat(services.get("pgha-replicas").path("spec").path("selector").path(roleLabel).asText())
        .isEqualTo(config.path("follower_label_value").asText());
    config.path("labels").fields().forEachRemaining(e -> {
      assertThat(podLabels).containsEntry(e.getKey(), e.getValue().asText());
      assertThat(services.get("pgha-primary").path("spec").path("selector").path(e.getKey()).asText())
          .isEqualTo(e.getValue().asText());
    });
    JsonNode rule = byName("Role").get("pgha-pod-labels").path("rules").get(0);
    assertThat(rule.path("resources").toString()).isEqualTo("[\"pods\"]");
    assertThat(rule.path("verbs").toString()).contains("\"patch\"");
    assertThat(byName("PodDisruptionBudget").get("pgha").path("spec").path("maxUnavailable").asInt()).isEqualTo(1);
  }

  private static Map<String, Integer> ports(JsonNode container) {
    Map<String, Integer> out = new HashMap<>();
    container.path("ports").forEach(p -> out.put(p.path("name").asText(), p.path("containerPort").asInt()));
    return out;
  }

  private static JsonNode statefulSet() throws IOException {
    return byName("StatefulSet").get("pgha");
  }

  private static JsonNode configMap(String name) throws IOException {
    return byName("ConfigMap").get(name);
  }

  private static Map<String, JsonNode> byName(String kind) throws IOException {
    Map<String, JsonNode> out = new HashMap<>();
    for (JsonNode doc : documents()) {
      if (kind.equals(doc.path("kind").asText())) {
        out.put(doc.path("metadata").path("name").asText(), doc);
      }
    }
    return out;
  }

  static List<JsonNode> documents() throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    YAMLMapper yaml = new YAMLMapper();
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        try (var parser = new YAMLFactory().createParser(f.toFile())) {
          var it = yaml.readValues(parser, JsonNode.class);
          while (it.hasNext()) {
            JsonNode doc = it.next();
            if (doc != null && !doc.isNull() && !doc.isEmpty()) {
              docs.add(doc);
            }
          }
        }
      }
    }
    return docs;
  }

  /** {@code kubectl apply --dry-run=client --validate=false -f dir} against the fake discovery; its output. */
  private String kubectlDryRun(Path dir) throws Exception {
    Path kubectl = kubectl();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::discovery);
    server.start();
    try {
      Process p = new ProcessBuilder(kubectl.toString(), "apply", "--dry-run=client", "--validate=false",
          "--server=http://127.0.0.1:" + server.getAddress().getPort(), "--cache-dir=" + tmp.resolve("cache"),
          "--kubeconfig=/dev/null", "--namespace=pgha", "-f", dir.toString())
          .redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kubectl finished").isTrue();
      if (p.exitValue() != 0) {
        throw new AssertionError("kubectl exit " + p.exitValue() + ":\n" + output);
      }
      return output;
    } finally {
      server.stop(0);
    }
  }

  private void discovery(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    ObjectNode body = JSON.createObjectNode();
    int status = 200;
    if (path.equals("/api")) {
      body.put("kind", "APIVersions").putArray("versions").add("v1");
    } else if (path.equals("/apis")) {
      body.put("kind", "APIGroupList").put("apiVersion", "v1");
      ArrayNode groups = body.putArray("groups");
      RESOURCES.keySet().stream().filter(gv -> gv.contains("/")).forEach(gv -> {
        ObjectNode version = JSON.createObjectNode().put("groupVersion", gv).put("version", gv.split("/")[1]);
        ObjectNode g = groups.addObject().put("name", gv.split("/")[0]);
        g.putArray("versions").add(version);
        g.set("preferredVersion", version);
      });
    } else if (RESOURCES.containsKey(path.replaceFirst("^/apis?/", ""))
        && (path.startsWith("/apis/") || path.equals("/api/v1"))) {
      String gv = path.replaceFirst("^/apis?/", "");
      body.put("kind", "APIResourceList").put("apiVersion", "v1").put("groupVersion", gv);
      ArrayNode list = body.putArray("resources");
      for (String[] r : RESOURCES.get(gv)) {
        ObjectNode res = list.addObject().put("name", r[0]).put("singularName", "").put("namespaced", true)
            .put("kind", r[1]);
        ArrayNode verbs = res.putArray("verbs");
        List.of("create", "delete", "get", "list", "patch", "update", "watch").forEach(verbs::add);
      }
    } else {
      status = 404; // no object exists: apply creates (dry run)
      body.put("kind", "Status").put("apiVersion", "v1").put("status", "Failure").put("reason", "NotFound")
          .put("code", 404).put("message", path + " not found");
    }
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (var out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  static Path kubectl() {
    for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin").split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "kubectl");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    Assumptions.abort("kubectl not found on PATH or in /usr/bin: install it with `apt-get install -y"
        + " kubernetes-client`");
    return null;
  }
}
