package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.Values;
import io.pgha.dcs.ClusterSnapshot;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * The body of {@code GET /cluster} (§5.6), as Patroni 4.1's {@code cluster_as_json} plus the {@code scope} its REST
 * handler adds: members sorted by name with role, state, api_url, host/port from {@code conn_url}, the optional
 * attributes they publish and, for non-leaders, receive/replay/plain LSNs and lags against {@code status.optime};
 * then {@code pause}, {@code scheduled_switchover} and {@code scope}.
 */
public final class ClusterJson {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String[] OPTIONAL_ATTRIBUTES =
      {"timeline", "pending_restart", "pending_restart_reason", "scheduled_restart", "tags"};
  private static final String[] LSN_KINDS = {"receive_", "replay_", ""};

  private ClusterJson() {}

  static ObjectNode render(ClusterSnapshot cluster, String scope) {
    ObjectNode config = cluster.config() == null ? NODES.objectNode() : cluster.config();
    boolean standbyCluster = cluster.standbyCluster();
    boolean quorum = "quorum".equals(config.path("synchronous_mode").asText("").toLowerCase(Locale.ROOT));
    boolean syncMode = (parseBool(config.get("synchronous_mode")) || quorum) && !standbyCluster;
    String syncRole = quorum ? "quorum_standby" : "sync_standby";
    long clusterLsn = cluster.optime();

    ObjectNode out = NODES.objectNode();
    ArrayNode members = out.putArray("members");
    for (ClusterSnapshot.Member m : cluster.members()) { // sorted by name
      ObjectNode data = m.data();
      boolean isLeader = m.name().equals(cluster.leader());
      String role;
      if (isLeader) {
        role = standbyCluster ? "standby_leader" : "leader";
      } else if (syncMode && inSync(cluster, m.name())) {
        role = syncRole;
      } else {
        role = "replica";
      }
      ObjectNode member = members.addObject();
      member.put("name", m.name());
      member.put("role", role);
      JsonNode replicationState = data.get("replication_state");
      if (!"leader".equals(role) && truthy(replicationState)) {
        member.set("state", replicationState.deepCopy());
      } else {
        member.set("state", truthy(data.get("state")) ? data.get("state").deepCopy() : NODES.textNode(""));
      }
      JsonNode apiUrl = data.get("api_url");
      member.set("api_url", apiUrl == null ? NODES.nullNode() : apiUrl.deepCopy());
      HostPort hostPort = hostPort(data);
      if (hostPort != null) {
        member.put("host", hostPort.host());
        if (hostPort.port() != null) {
          member.put("port", hostPort.port());
        }
      }
      for (String attribute : OPTIONAL_ATTRIBUTES) {
        if (data.has(attribute)) {
          member.set(attribute, data.get(attribute).deepCopy());
        }
      }
      if (!isLeader) {
        for (String kind : LSN_KINDS) {
          String lsnKey = kind + "lsn";
          String lagKey = kind + "lag";
          Long lsn = Values.integer(data.get(kind.isEmpty() ? "xlog_location" : lsnKey));
          if (lsn == null || lsn == 0) {
            member.put(lsnKey, "unknown");
            member.put(lagKey, "unknown");
          } else {
            member.put(lsnKey, formatLsn(lsn));
            member.put(lagKey, clusterLsn >= lsn ? clusterLsn - lsn : 0);
          }
        }
      }
    }
    if (cluster.paused()) {
      out.put("pause", true);
    }
    ObjectNode failover = cluster.failover();
    if (failover != null && truthy(failover.get("scheduled_at"))) {
      ObjectNode scheduled = out.putObject("scheduled_switchover");
      scheduled.put("at", isoformat(failover.get("scheduled_at").asText()));
      if (truthy(failover.get("leader"))) {
        scheduled.set("from", failover.get("leader").deepCopy());
      }
      if (truthy(failover.get("member"))) {
        scheduled.set("to", failover.get("member").deepCopy());
      }
    }
    out.put("scope", scope);
    return out;
  }

  /** {@code sync.sync_standby} lists the member: names compared without case and blanks, as Patroni does. */
  private static boolean inSync(ClusterSnapshot cluster, String name) {
    String wanted = name.trim().toLowerCase(Locale.ROOT);
    return cluster.syncStandbys().stream().anyMatch(s -> s.trim().toLowerCase(Locale.ROOT).equals(wanted));
  }

  /** {@code '%X/%X' % (lsn >> 32, lsn & 0xFFFFFFFF)}. */
  public static String formatLsn(long lsn) {
    return Long.toHexString(lsn >>> 32).toUpperCase(Locale.ROOT) + "/"
        + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(Locale.ROOT);
  }

  /** A member's PostgreSQL address; {@code port} null when {@code conn_url} has an invalid one. */
  public record HostPort(String host, Integer port) {}

  /**
   * Host and port as Patroni's {@code Member.conn_kwargs()}: from {@code conn_kwargs} when published, else parsed
   * from {@code conn_url} like Python's {@code urlparse} (hostname lower-cased, port 5432 when absent); null without a
   * host.
   */
  public static HostPort hostPort(ObjectNode data) {
    JsonNode kwargs = data.get("conn_kwargs");
    if (kwargs != null && kwargs.isObject() && !kwargs.isEmpty()) {
      String host = kwargs.path("host").asText("");
      if (!truthy(kwargs.get("host"))) {
        return null;
      }
      Long port = Values.integer(kwargs.get("port"));
      return new HostPort(host, port == null ? null : port.intValue());
    }
    JsonNode connUrl = data.get("conn_url");
    if (connUrl == null || !connUrl.isTextual() || connUrl.asText().isEmpty()) {
      return null;
    }
    String url = connUrl.asText();
    int scheme = url.indexOf("://");
    if (scheme < 0) {
      return null;
    }
    String rest = url.substring(scheme + 3);
    int end = rest.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int i = rest.indexOf(c);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    String netloc = rest.substring(0, end);
    String hostinfo = netloc.substring(netloc.lastIndexOf('@') + 1);
    String host;
    String port;
    int open = hostinfo.indexOf('[');
    if (open >= 0) {
      String bracketed = hostinfo.substring(open + 1);
      int close = bracketed.indexOf(']');
      host = close < 0 ? bracketed : bracketed.substring(0, close);
      String after = close < 0 ? "" : bracketed.substring(close + 1);
      int colon = after.indexOf(':');
      port = colon < 0 ? "" : after.substring(colon + 1);
    } else {
      int colon = hostinfo.indexOf(':');
      host = colon < 0 ? hostinfo : hostinfo.substring(0, colon);
      port = colon < 0 ? "" : hostinfo.substring(colon + 1);
    }
    host = host.toLowerCase(Locale.ROOT);
    if (host.isEmpty()) {
      return null;
    }
    if (port.isEmpty()) {
      return new HostPort(host, 5432);
    }
    try {
      int p = Integer.parseInt(port);
      return p >= 0 && p <= 65535 ? new HostPort(host, p == 0 ? 5432 : p) : new HostPort(host, null);
    } catch (NumberFormatException e) {
      return new HostPort(host, null);
    }
  }

  /** Python's {@code datetime.isoformat()} of a parsed {@code scheduled_at}; the text itself when unparsable. */
  static String isoformat(String text) {
    try {
      OffsetDateTime at = OffsetDateTime.parse(text.trim().replace(' ', 'T'));
      StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%04d-%02d-%02dT%02d:%02d:%02d",
          at.getYear(), at.getMonthValue(), at.getDayOfMonth(), at.getHour(), at.getMinute(), at.getSecond()));
      int micros = at.getNano() / 1000;
      if (micros != 0) {
        out.append(String.format(Locale.ROOT, ".%06d", micros));
      }
      int offset = at.getOffset().getTotalSeconds();
      out.append(offset < 0 ? '-' : '+');
      int abs = Math.abs(offset);
      out.append(String.format(Locale.ROOT, "%02d:%02d", abs / 3600, abs / 60 % 60));
      if (abs % 60 != 0) {
        out.append(String.format(Locale.ROOT, ":%02d", abs % 60));
      }
      return out.toString();
    } catch (DateTimeParseException e) {
      return text;
    }
  }

  /** Patroni's {@code parse_bool(value) is True}: the Python text of the value is on/true/yes/1, any case. */
  private static boolean parseBool(JsonNode value) {
    if (value == null || value.isMissingNode()) {
      return false;
    }
    String text = ConfigMerge.pythonStr(value).toLowerCase(Locale.ROOT);
    return text.equals("on") || text.equals("true") || text.equals("yes") || text.equals("1");
  }

  /** Python truthiness of a JSON value. */
  private static boolean truthy(JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return false;
    }
    if (value.isBoolean()) {
      return value.booleanValue();
    }
    if (value.isNumber()) {
      return value.doubleValue() != 0;
    }
    if (value.isContainerNode()) {
      return !value.isEmpty();
    }
    return !value.asText().isEmpty();
  }
}
