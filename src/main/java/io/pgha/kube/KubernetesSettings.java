package io.pgha.kube;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Patroni's {@code kubernetes:} keys that matter beside a ZooKeeper DCS: the role labels pgha sets on its own pod.
 * Patroni's defaults are 4.x's ({@code role}, {@code primary}, {@code replica}, {@code primary}).
 *
 * @param labels Patroni's selector labels; pgha sets them on the pod with the role label
 * @param roleLabel the label carrying the role ({@code role_label})
 * @param leaderValue its value on the leader ({@code leader_label_value})
 * @param followerValue its value on a running replica ({@code follower_label_value})
 * @param standbyLeaderValue its value on a standby leader ({@code standby_leader_label_value})
 * @param tmpRoleLabel a second role label with Patroni's own role names, or null ({@code tmp_role_label})
 * @param namespace the pod's namespace ({@code kubernetes.namespace}, else {@code POD_NAMESPACE}, else the service
 *     account's namespace file, else {@code default})
 * @param podName the pod's name ({@code POD_NAME} from the downward API, else the member's {@code name})
 * @param apiUrl the API server ({@code kubernetes.api_url}, a pgha key; else
 *     {@code https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT})
 * @param tokenFile the service account's token, read at every request (bound tokens rotate); absent: no header
 * @param caFile the CA that signed the API server's certificate (https only): {@code kubernetes.cacert}, else the
 *     service account's
 */
public record KubernetesSettings(
    Map<String, String> labels,
    String roleLabel,
    String leaderValue,
    String followerValue,
    String standbyLeaderValue,
    String tmpRoleLabel,
    String namespace,
    String podName,
    String apiUrl,
    Path tokenFile,
    Path caFile) {

  static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

  public KubernetesSettings {
    labels = Map.copyOf(labels);
    Objects.requireNonNull(roleLabel, "roleLabel");
    Objects.requireNonNull(podName, "podName");
    Objects.requireNonNull(apiUrl, "apiUrl");
  }

  /**
   * The settings of the configuration's {@code kubernetes:} section (environment overrides included), or null when
   * there is none: then pgha labels nothing.
   */
  public static KubernetesSettings from(JsonNode raw, Map<String, String> env, String memberName)
      throws ConfigException {
    JsonNode k = raw == null ? null : raw.get("kubernetes");
    if (k == null || k.isNull()) {
      return null;
    }
    if (!k.isObject()) {
      throw new ConfigException("kubernetes: must be a mapping");
    }
    Map<String, String> labels = new LinkedHashMap<>();
    JsonNode labelsNode = k.get("labels");
    if (labelsNode != null && !labelsNode.isNull()) {
      if (!labelsNode.isObject()) {
        throw new ConfigException("kubernetes.labels: must be a mapping of label names to values");
      }
      labelsNode.fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
    }
    String namespace = text(k, "namespace");
    if (namespace == null) {
      namespace = blankToNull(env.get("POD_NAMESPACE"));
    }
    if (namespace == null) {
      namespace = readNamespaceFile();
    }
    String podName = blankToNull(env.get("POD_NAME"));
    String apiUrl = text(k, "api_url");
    if (apiUrl == null) {
      String host = blankToNull(env.get("KUBERNETES_SERVICE_HOST"));
      String port = env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
      if (host == null) {
        throw new ConfigException("kubernetes: the pod labeller needs the API server: KUBERNETES_SERVICE_HOST is not"
            + " set (not in a pod?) and kubernetes.api_url is not configured");
      }
      apiUrl = "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
    while (apiUrl.endsWith("/")) {
      apiUrl = apiUrl.substring(0, apiUrl.length() - 1);
    }
    return new KubernetesSettings(labels,
        orDefault(text(k, "role_label"), "role"),
        orDefault(text(k, "leader_label_value"), "primary"),
        orDefault(text(k, "follower_label_value"), "replica"),
        orDefault(text(k, "standby_leader_label_value"), "primary"),
        text(k, "tmp_role_label"),
        orDefault(namespace, "default"),
        podName != null ? podName : memberName,
        apiUrl,
        SERVICE_ACCOUNT.resolve("token"),
        text(k, "cacert") != null ? Path.of(text(k, "cacert")) : SERVICE_ACCOUNT.resolve("ca.crt"));
  }

  /** A copy with other service-account files (tests). */
  public KubernetesSettings withServiceAccountFiles(Path token, Path ca) {
    return new KubernetesSettings(labels, roleLabel, leaderValue, followerValue, standbyLeaderValue, tmpRoleLabel,
        namespace, podName, apiUrl, token, ca);
  }

  /** {@code /api/v1/namespaces/<ns>/pods/<pod>}. */
  public String podPath() {
    return "/api/v1/namespaces/" + namespace + "/pods/" + podName;
  }

  private static String readNamespaceFile() {
    try {
      Path file = SERVICE_ACCOUNT.resolve("namespace");
      return Files.isReadable(file) ? blankToNull(Files.readString(file).strip()) : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static String text(JsonNode section, String key) {
    JsonNode v = section.get(key);
    return v == null || v.isNull() ? null : blankToNull(v.asText());
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static String orDefault(String s, String def) {
    return s == null ? def : s;
  }
}
