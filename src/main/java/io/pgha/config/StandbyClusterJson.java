package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Parses the dynamic configuration's {@code standby_cluster} section into a {@link StandbyCluster}. */
public final class StandbyClusterJson {
  private StandbyClusterJson() {}

  /**
   * @return null when the section is absent, not an object, or sets none of host, port, restore_command (Patroni's
   *     {@code is_standby_cluster}); what cannot be honoured is added to {@code warnings}
   */
  public static StandbyCluster parse(JsonNode node, List<String> warnings) {
    if (node == null || !node.isObject()) return null;
    String host = text(node.get("host"));
    String restore = text(node.get("restore_command"));
    int port = 0;
    JsonNode portNode = node.get("port");
    if (portNode != null && !portNode.isNull() && !text(portNode, "").isEmpty()) {
      Long parsed = Values.integer(portNode);
      if (parsed == null || parsed < 1 || parsed > 65535) {
        warnings.add("standby_cluster.port=" + portNode + " is not a port: using 5432");
        port = 5432;
      } else {
        port = parsed.intValue();
      }
    }
    if (host == null && port == 0 && restore == null) return null;
    List<String> methods = new ArrayList<>();
    JsonNode m = node.get("create_replica_methods");
    if (m != null && m.isArray()) m.forEach(e -> { if (e.isValueNode()) methods.add(e.asText()); });
    else if (m != null && m.isTextual()) methods.add(m.asText());
    List<String> others = methods.stream().filter(x -> !"basebackup".equals(x)).toList();
    if (!others.isEmpty()) {
      warnings.add("standby_cluster.create_replica_methods: only basebackup is supported, ignoring " + others);
    }
    JsonNode delay = node.get("recovery_min_apply_delay");
    return new StandbyCluster(host, port, text(node.get("primary_slot_name")), methods, restore,
        text(node.get("archive_cleanup_command")), delay == null || delay.isNull() ? null : Values.gucText(delay));
  }

  private static String text(JsonNode node) {
    String t = text(node, null);
    return t == null || t.isEmpty() ? null : t;
  }

  private static String text(JsonNode node, String fallback) {
    if (node == null || node.isNull() || !node.isValueNode()) return fallback;
    return node.asText().trim();
  }
}
