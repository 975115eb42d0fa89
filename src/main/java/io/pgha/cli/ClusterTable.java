package io.pgha.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.cli.ClusterSnapshot.Member;
import java.net.URI;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;

/**
 * The member table of {@code patronictl list} (Patroni 3.0.2: columns Member, Host, Role, State, TL, Lag in MB, plus
 * Pending restart, Scheduled restart and Tags when a member has them), computed from a {@link ClusterSnapshot} the
 * way patronictl's {@code cluster_as_json} and {@code output_members} do, and drawn like its PrettyTable.
 */
public final class ClusterTable {

  /** Output formats of {@code list -f}. */
  public enum Format { PRETTY, TSV, JSON }

  private static final long MB = 1024L * 1024L;
  private static final int DEFAULT_POSTGRES_PORT = 5432;
  private static final List<String> BASE_COLUMNS =
      List.of("Cluster", "Member", "Host", "Role", "State", "TL", "Lag in MB");
  private static final Set<String> RIGHT_ALIGNED = Set.of("TL", "Lag in MB");

  private final List<String> columns;
  private final List<List<Object>> rows;
  private final String clusterName;
  private final List<String> serviceInfo;

  private ClusterTable(String clusterName, List<String> columns, List<List<Object>> rows, List<String> serviceInfo) {
    this.clusterName = clusterName;
    this.columns = columns;
    this.rows = rows;
    this.serviceInfo = serviceInfo;
  }

  /**
   * Reads the cluster at {@code basePath} from ZooKeeper. Fails with {@link UnreachableException} when no server
   * answers within {@code connectTimeout}, so a CLI never hangs on a dead ensemble.
   */
  public static ClusterSnapshot read(String connectString, String basePath, Duration connectTimeout)
      throws Exception {
    try (CuratorFramework client = CuratorFrameworkFactory.builder()
        .connectString(connectString)
        .connectionTimeoutMs((int) connectTimeout.toMillis())
        .sessionTimeoutMs((int) Math.max(connectTimeout.toMillis() * 2, 4_000))
        .retryPolicy(new RetryNTimes(1, 200))
        .build()) {
      client.start();
      if (!client.blockUntilConnected((int) connectTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new UnreachableException(connectString);
      }
      return ClusterSnapshot.read(client, basePath);
    }
  }

  /** No ZooKeeper server of the connect string answered in time. */
  public static final class UnreachableException extends Exception {
    public UnreachableException(String connectString) {
      super("cannot reach ZooKeeper at " + connectString);
    }
  }

  /** The table for {@code cluster}, named {@code clusterName}; {@code extended} adds the optional columns always. */
  public static ClusterTable of(ClusterSnapshot cluster, String clusterName, boolean extended) {
    List<Map<String, Object>> members = new ArrayList<>();
    for (Member member : cluster.members()) {
      members.add(asJson(cluster, member));
    }
    List<String> columns = new ArrayList<>(BASE_COLUMNS);
    for (String optional : List.of("Pending restart", "Scheduled restart", "Tags")) {
      String key = key(optional);
      if (extended || members.stream().anyMatch(m -> m.containsKey("host") && truthy(m.get(key)))) {
        columns.add(optional);
      }
    }
    List<List<Object>> rows = new ArrayList<>();
    boolean appendPort = appendPort(members);
    for (Map<String, Object> member : members) {
      member.put("cluster", clusterName);
      member.put("member", member.get("name"));
      member.putIfAbsent("host", "");
      member.put("tl", member.getOrDefault("timeline", ""));
      member.put("role", titleCase(((String) member.get("role")).replace('_', ' ')));
      Object lag = member.getOrDefault("lag", "");
      member.put("lag_in_mb", lag instanceof Long bytes ? pythonRound(bytes / (double) MB) : lag);
      member.put("pending_restart", truthy(member.get("pending_restart")) ? "*" : "");
      if (appendPort && !"".equals(member.get("host")) && member.get("port") != null) {
        member.put("host", member.get("host") + ":" + member.get("port"));
      }
      if (member.get("scheduled_restart") instanceof JsonNode restart) {
        String value = restart.path("schedule").asText();
        if (restart.has("postgres_version")) {
          value += " if version < " + restart.get("postgres_version").asText();
        }
        member.put("scheduled_restart", value);
      }
      List<Object> row = new ArrayList<>();
      for (String column : columns) {
        row.add(member.getOrDefault(key(column), ""));
      }
      rows.add(row);
    }
    return new ClusterTable(clusterName, List.copyOf(columns), rows, serviceInfo(cluster));
  }

  /** The row data patronictl's {@code cluster_as_json} builds for one member. */
  private static Map<String, Object> asJson(ClusterSnapshot cluster, Member m) {
    Map<String, Object> member = new LinkedHashMap<>();
    String role;
    if (m.name().equals(cluster.leader())) {
      role = cluster.standbyCluster() ? "standby_leader" : "leader";
    } else if (cluster.syncStandbys().contains(m.name())) {
      role = "sync_standby";
    } else {
      role = "replica";
    }
    member.put("name", m.name());
    member.put("role", role);
    member.put("state", m.data().has("state") ? pythonValue(m.data().get("state")) : "");
    String connUrl = m.connUrl();
    if (connUrl != null && !connUrl.isEmpty()) {
      try {
        URI uri = URI.create(connUrl);
        String host = uri.getHost();
        if (host != null && !host.isEmpty()) {
          // urlparse().hostname drops IPv6 brackets
          member.put("host", host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
          member.put("port", (long) (uri.getPort() == -1 ? DEFAULT_POSTGRES_PORT : uri.getPort()));
        }
      } catch (IllegalArgumentException e) {
        // not a URL: patronictl shows no host either
      }
    }
    for (String optional : List.of("timeline", "pending_restart", "scheduled_restart", "tags")) {
      if (m.data().has(optional)) {
        JsonNode value = m.data().get(optional);
        member.put(optional, value.isIntegralNumber() ? (Object) value.asLong()
            : value.isContainerNode() ? value : pythonValue(value));
      }
    }
    if (!m.name().equals(cluster.leader())) {
      JsonNode lsn = m.data().get("xlog_location");
      if (lsn == null || lsn.isNull()) {
        member.put("lag", "unknown");
      } else {
        long location = lsn.asLong();
        member.put("lag", cluster.optime() >= location ? cluster.optime() - location : 0L);
      }
    }
    return member;
  }

  /** Host as host:port when some member runs on a non-default port or two members share a host. */
  private static boolean appendPort(List<Map<String, Object>> members) {
    List<Map<String, Object>> withHost = members.stream().filter(m -> m.containsKey("host")).toList();
    boolean nonDefaultPort = withHost.stream()
        .anyMatch(m -> m.containsKey("port") && (Long) m.get("port") != DEFAULT_POSTGRES_PORT);
    Set<Object> hosts = new HashSet<>();
    withHost.forEach(m -> hosts.add(m.get("host")));
    return nonDefaultPort || hosts.size() < withHost.size();
  }

  private static List<String> serviceInfo(ClusterSnapshot cluster) {
    List<String> info = new ArrayList<>();
    if (cluster.paused()) {
      info.add("Maintenance mode: on");
    }
    if (cluster.failover() != null && !cluster.failover().path("scheduled_at").asText("").isEmpty()) {
      StringBuilder line = new StringBuilder("Switchover scheduled at: ")
          .append(isoFormat(cluster.failover().get("scheduled_at").asText()));
      if (!cluster.failover().path("leader").asText("").isEmpty()) {
        line.append('\n').append(String.format("%24s: %s", "from", cluster.failover().get("leader").asText()));
      }
      if (!cluster.failover().path("member").asText("").isEmpty()) {
        line.append('\n').append(String.format("%24s: %s", "to", cluster.failover().get("member").asText()));
      }
      info.add(line.toString());
    }
    return info;
  }

  /** patronictl parses scheduled_at and prints Python's isoformat(). */
  private static String isoFormat(String scheduledAt) {
    try {
      OffsetDateTime time = OffsetDateTime.parse(scheduledAt);
      String pattern = time.getNano() == 0 ? "yyyy-MM-dd'T'HH:mm:ssxxx" : "yyyy-MM-dd'T'HH:mm:ss.SSSSSSxxx";
      return time.format(DateTimeFormatter.ofPattern(pattern));
    } catch (DateTimeParseException e) {
      return scheduledAt;
    }
  }

  /** Renders in {@code format}, every line ending in a newline, as patronictl prints it. */
  public String render(Format format) {
    return switch (format) {
      case PRETTY -> renderPretty();
      case TSV -> renderTsv();
      case JSON -> renderJson();
    };
  }

  private String renderPretty() {
    // pretty skips the Cluster column: the name is in the top border
    List<String> shown = columns.subList(1, columns.size());
    List<List<String>> cells = new ArrayList<>();
    for (List<Object> row : rows) {
      List<String> line = new ArrayList<>();
      for (int i = 1; i < row.size(); i++) {
        Object value = row.get(i);
        line.add(value instanceof JsonNode node ? (node.isEmpty() ? "" : Yaml.block(node)) : pythonStr(value));
      }
      cells.add(line);
    }
    int[] widths = new int[shown.size()];
    for (int c = 0; c < shown.size(); c++) {
      widths[c] = shown.get(c).length();
      for (List<String> row : cells) {
        for (String part : row.get(c).split("\n", -1)) {
          widths[c] = Math.max(widths[c], part.length());
        }
      }
    }
    boolean everyRowRuled = cells.stream().anyMatch(row -> row.stream().anyMatch(v -> v.contains("\n")));
    StringBuilder rule = new StringBuilder("+");
    for (int width : widths) {
      rule.append("-".repeat(width + 2)).append('+');
    }
    StringBuilder out = new StringBuilder();
    out.append(withTitle(rule.toString(), " Cluster: " + clusterName + " ")).append('\n');
    out.append(line(shown, shown, widths)).append('\n');
    out.append(rule).append('\n');
    for (int r = 0; r < cells.size(); r++) {
      List<String> row = cells.get(r);
      int height = row.stream().mapToInt(v -> v.split("\n", -1).length).max().orElse(1);
      for (int y = 0; y < height; y++) {
        List<String> part = new ArrayList<>();
        for (String value : row) {
          String[] lines = value.split("\n", -1);
          part.add(y < lines.length ? lines[y] : "");
        }
        out.append(line(shown, part, widths)).append('\n');
      }
      if (everyRowRuled || r == cells.size() - 1) {
        out.append(rule).append('\n');
      }
    }
    if (cells.isEmpty()) {
      out.append(rule).append('\n');
    }
    if (!serviceInfo.isEmpty()) {
      // items are joined with "\n "; lines inside one item keep their own indentation
      out.append(' ').append(String.join("\n ", serviceInfo)).append('\n');
    }
    return out.toString();
  }

  private static String withTitle(String rule, String title) {
    String fitted = title.length() > rule.length() - 2 ? title.substring(0, rule.length() - 2) : title;
    return rule.charAt(0) + fitted + rule.substring(1 + fitted.length());
  }

  private static String line(List<String> columns, List<String> values, int[] widths) {
    StringBuilder line = new StringBuilder("|");
    for (int c = 0; c < columns.size(); c++) {
      String value = values.get(c);
      String padding = " ".repeat(widths[c] - value.length());
      boolean right = RIGHT_ALIGNED.contains(columns.get(c));
      line.append(' ').append(right ? padding + value : value + padding).append(" |");
    }
    return line.toString();
  }

  private String renderTsv() {
    StringBuilder out = new StringBuilder(String.join("\t", columns)).append('\n');
    for (List<Object> row : rows) {
      List<String> values = new ArrayList<>();
      for (Object value : row) {
        values.add(value instanceof JsonNode node ? (node.isEmpty() ? "" : Yaml.flow(node)) : pythonStr(value));
      }
      out.append(String.join("\t", values)).append('\n');
    }
    return out.toString();
  }

  private String renderJson() {
    StringBuilder out = new StringBuilder("[");
    for (int r = 0; r < rows.size(); r++) {
      out.append(r == 0 ? "{" : ", {");
      boolean first = true;
      for (int c = 0; c < columns.size(); c++) {
        Object value = rows.get(r).get(c);
        if (pythonStr(value).isEmpty() || (value instanceof JsonNode node && node.isEmpty())) {
          continue; // patronictl omits empty values
        }
        out.append(first ? "" : ", ").append(PythonJson.string(columns.get(c))).append(": ")
            .append(value instanceof JsonNode node ? PythonJson.of(node) : PythonJson.scalar(value));
        first = false;
      }
      out.append('}');
    }
    return out.append("]\n").toString();
  }

  /** Python's round(): halves to even. */
  private static long pythonRound(double value) {
    return (long) Math.rint(value);
  }

  /** str() of a value as Python would print it. */
  private static String pythonStr(Object value) {
    if (value == null) {
      return "None";
    }
    if (value instanceof Boolean b) {
      return b ? "True" : "False";
    }
    if (value instanceof JsonNode node) {
      return node.toString();
    }
    return value.toString();
  }

  /** A JSON scalar as the Python value json.loads gives (text, number, bool or null). */
  private static Object pythonValue(JsonNode value) {
    if (value.isNull()) {
      return null;
    }
    if (value.isBoolean()) {
      return value.asBoolean();
    }
    if (value.isIntegralNumber()) {
      return value.asLong();
    }
    if (value.isNumber()) {
      return value.asDouble();
    }
    return value.asText();
  }

  private static boolean truthy(Object value) {
    if (value == null) {
      return false;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    if (value instanceof Long l) {
      return l != 0;
    }
    if (value instanceof String s) {
      return !s.isEmpty();
    }
    if (value instanceof JsonNode node) {
      return node.isContainerNode() ? !node.isEmpty() : ClusterSnapshot.parseBool(node) || !node.asText().isEmpty();
    }
    return true;
  }

  private static String key(String column) {
    return column.toLowerCase().replace(' ', '_');
  }

  /** Python's str.title() for role names ("sync standby" to "Sync Standby"). */
  private static String titleCase(String text) {
    StringBuilder out = new StringBuilder(text.length());
    boolean startOfWord = true;
    for (char c : text.toCharArray()) {
      out.append(startOfWord ? Character.toUpperCase(c) : Character.toLowerCase(c));
      startOfWord = !Character.isLetter(c);
    }
    return out.toString();
  }

  /** PyYAML safe_dump of member tags, enough for the flat maps and lists tags hold. */
  static final class Yaml {
    private Yaml() {}

    /** {@code default_flow_style=False}: one {@code key: value} per line, keys sorted. */
    static String block(JsonNode node) {
      StringBuilder out = new StringBuilder();
      block(node, "", out);
      return out.toString().strip();
    }

    private static void block(JsonNode node, String indent, StringBuilder out) {
      if (node.isObject()) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        names.sort(null);
        for (String name : names) {
          JsonNode value = node.get(name);
          out.append(indent).append(scalar(name)).append(':');
          if (value.isContainerNode() && !value.isEmpty()) {
            out.append('\n');
            block(value, value.isObject() ? indent + "  " : indent, out);
          } else {
            out.append(' ').append(value.isContainerNode() ? flow(value) : scalar(value)).append('\n');
          }
        }
      } else if (node.isArray()) {
        for (JsonNode item : node) {
          out.append(indent).append("- ");
          if (item.isContainerNode() && !item.isEmpty()) {
            StringBuilder nested = new StringBuilder();
            block(item, indent + "  ", nested);
            out.append(nested.substring(indent.length() + 2));
          } else {
            out.append(item.isContainerNode() ? flow(item) : scalar(item)).append('\n');
          }
        }
      }
    }

    /** {@code default_flow_style=True}: {@code {a: 1, b: true}}. */
    static String flow(JsonNode node) {
      if (node.isObject()) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        names.sort(null);
        StringBuilder out = new StringBuilder("{");
        for (Iterator<String> it = names.iterator(); it.hasNext(); ) {
          String name = it.next();
          out.append(scalar(name)).append(": ").append(flow(node.get(name)));
          if (it.hasNext()) {
            out.append(", ");
          }
        }
        return out.append('}').toString();
      }
      if (node.isArray()) {
        List<String> items = new ArrayList<>();
        node.forEach(item -> items.add(flow(item)));
        return "[" + String.join(", ", items) + "]";
      }
      return scalar(node);
    }

    private static String scalar(JsonNode value) {
      if (value.isNull()) {
        return "null";
      }
      if (value.isBoolean() || value.isNumber()) {
        return value.asText();
      }
      return scalar(value.asText());
    }

    /** A string, single-quoted when plain style would read back as something else. */
    private static String scalar(String text) {
      boolean plain = !text.isEmpty()
          && text.matches("[A-Za-z_./][A-Za-z0-9_./ -]*")
          && !text.endsWith(" ")
          && !text.matches("(?i)(true|false|yes|no|on|off|y|n|null|~)");
      return plain ? text : "'" + text.replace("'", "''") + "'";
    }
  }

  /** Python json.dumps defaults: ", " and ": " separators, non-ASCII escaped. */
  static final class PythonJson {
    private PythonJson() {}

    static String of(JsonNode node) {
      if (node.isObject()) {
        List<String> parts = new ArrayList<>();
        node.fields().forEachRemaining(e -> parts.add(string(e.getKey()) + ": " + of(e.getValue())));
        return "{" + String.join(", ", parts) + "}";
      }
      if (node.isArray()) {
        List<String> parts = new ArrayList<>();
        node.forEach(item -> parts.add(of(item)));
        return "[" + String.join(", ", parts) + "]";
      }
      if (node.isTextual()) {
        return string(node.asText());
      }
      return node.toString();
    }

    static String scalar(Object value) {
      if (value == null) {
        return "null";
      }
      if (value instanceof String s) {
        return string(s);
      }
      return value.toString();
    }

    static String string(String text) {
      StringBuilder out = new StringBuilder("\"");
      for (char c : text.toCharArray()) {
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          case '\n' -> out.append("\\n");
          case '\r' -> out.append("\\r");
          case '\t' -> out.append("\\t");
          default -> {
            if (c < 0x20 || c > 0x7e) {
              out.append(String.format("\\u%04x", (int) c));
            } else {
              out.append(c);
            }
          }
        }
      }
      return out.append('"').toString();
    }
  }
}
