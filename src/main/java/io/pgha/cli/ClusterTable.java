package io.pgha.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.net.URI;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The member table of {@code patronictl list} (Patroni 3.0.2: columns Member, Host, Role, State, TL, Lag in MB, plus
 * Pending restart, Scheduled restart and Tags when a member has them), computed from a {@link ClusterSnapshot} the
 * way patronictl's {@code cluster_as_json} and {@code output_members} do, and drawn by {@link Table}.
 */
public final class ClusterTable {

  /** Output formats of {@code -f}; {@code TOPOLOGY} is the pretty table in {@code topology} order. */
  public enum Format { PRETTY, TSV, JSON, YAML, TOPOLOGY;

    /** {@code pretty}, {@code tsv}, {@code json}, {@code yaml} or {@code yml}. */
    static Format parse(String name) throws CtlException {
      return switch (name) {
        case "pretty" -> PRETTY;
        case "tsv" -> TSV;
        case "json" -> JSON;
        case "yaml", "yml" -> YAML;
        default -> throw CtlException.usage("Invalid value for '-f' / '--format': '" + name
            + "' is not one of 'pretty', 'tsv', 'json', 'yaml', 'yml'.");
      };
    }
  }

  private static final long MB = 1024L * 1024L;
  private static final int DEFAULT_POSTGRES_PORT = 5432;
  private static final List<String> BASE_COLUMNS =
      List.of("Cluster", "Member", "Host", "Role", "State", "TL", "Lag in MB");
  private static final Set<String> RIGHT_ALIGNED = Set.of("TL", "Lag in MB");

  private final List<String> columns;
  private final List<Map<String, Object>> members;
  private final String clusterName;
  private final List<String> serviceInfo;

  private ClusterTable(String clusterName, List<String> columns, List<Map<String, Object>> members,
      List<String> serviceInfo) {
    this.clusterName = clusterName;
    this.columns = columns;
    this.members = members;
    this.serviceInfo = serviceInfo;
  }

  /**
   * Reads the cluster at {@code basePath} from ZooKeeper. Fails with {@link UnreachableException} when no server
   * answers within {@code connectTimeout}, so a CLI never hangs on a dead ensemble.
   */
  public static ClusterSnapshot read(String connectString, String basePath, Duration connectTimeout)
      throws Exception {
    try (ZkSession zk = ZkSession.connect(connectString, connectTimeout)) {
      return zk.read(basePath);
    }
  }

  /** No ZooKeeper server of the connect string answered in time. */
  public static final class UnreachableException extends Exception {
    private static final long serialVersionUID = 1L;

    public UnreachableException(String connectString) {
      super("cannot reach ZooKeeper at " + connectString);
    }

    /** With {@code why} (null: unknown), such as the TLS handshake's failure. */
    public UnreachableException(String connectString, String why) {
      super("cannot reach ZooKeeper at " + connectString + (why == null ? "" : ": " + why));
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
    }
    return new ClusterTable(clusterName, List.copyOf(columns), members, serviceInfo(cluster));
  }

  /** The row data patronictl's {@code cluster_as_json} builds for one member. */
  private static Map<String, Object> asJson(ClusterSnapshot cluster, Member m) {
    Map<String, Object> member = new LinkedHashMap<>();
    String role;
    if (m.name().equals(cluster.leader())) {
      role = cluster.standbyCluster() ? "standby_leader" : "leader";
    } else if (cluster.syncStandbys().contains(m.name())) {
      // Patroni 4: quorum_standby in quorum mode ("Quorum Standby" in the table)
      boolean quorum = cluster.config() != null
          && "quorum".equalsIgnoreCase(cluster.config().path("synchronous_mode").asText("").trim());
      role = quorum ? "quorum_standby" : "sync_standby";
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
    List<Map<String, Object>> ordered = format == Format.TOPOLOGY ? topologyOrder(members) : members;
    boolean pretty = format == Format.PRETTY || format == Format.TOPOLOGY;
    List<List<Object>> rows = new ArrayList<>();
    for (Map<String, Object> member : ordered) {
      List<Object> row = new ArrayList<>();
      for (String column : columns) {
        Object value = member.getOrDefault(key(column), "");
        if (column.equals("Tags") && value instanceof JsonNode tags && !tags.isEmpty()
            && (pretty || format == Format.TSV)) {
          // tags as YAML: block in the pretty table, flow in tsv and (as patronictl has it) in topology
          value = Py.yaml(tags, format != Format.PRETTY).strip();
        }
        row.add(value);
      }
      rows.add(pretty ? row.subList(1, row.size()) : row); // pretty has the cluster name in the top border
    }
    List<String> shown = pretty ? columns.subList(1, columns.size()) : columns;
    String table = new Table(shown, rows, RIGHT_ALIGNED, " Cluster: " + clusterName + " ").render(format, "\t");
    if (pretty && !serviceInfo.isEmpty()) {
      // items are joined with "\n "; lines inside one item keep their own indentation
      table += " " + String.join("\n ", serviceInfo) + "\n";
    }
    return table;
  }

  /**
   * patronictl's {@code topology_sort}: the leader first, then each replica under the member its
   * {@code replicatefrom} tag names (when that is another replica), else under the leader; names get a {@code + }
   * prefix indented two spaces per level below the first.
   */
  private static List<Map<String, Object>> topologyOrder(List<Map<String, Object>> members) {
    Map<String, Object> leader = members.stream().filter(m -> ((String) m.get("role")).endsWith("Leader"))
        .findFirst().orElse(null);
    String leaderName = leader == null ? null : (String) leader.get("name");
    Set<String> replicas = new HashSet<>();
    members.stream().filter(m -> m != leader).forEach(m -> replicas.add((String) m.get("name")));
    Map<String, List<Map<String, Object>>> children = new LinkedHashMap<>();
    for (Map<String, Object> member : members) {
      if (member == leader) {
        continue;
      }
      String parent = member.get("tags") instanceof JsonNode tags ? tags.path("replicatefrom").asText(null) : null;
      if (parent == null || parent.equals(member.get("name")) || !replicas.contains(parent)) {
        parent = leaderName;
      }
      children.computeIfAbsent(String.valueOf(parent), k -> new ArrayList<>()).add(member);
    }
    List<Map<String, Object>> ordered = new ArrayList<>();
    if (leader != null) {
      ordered.add(leader);
    }
    addChildren(String.valueOf(leaderName), 1, children, ordered);
    return ordered;
  }

  private static void addChildren(String parent, int level, Map<String, List<Map<String, Object>>> children,
      List<Map<String, Object>> ordered) {
    for (Map<String, Object> child : children.getOrDefault(parent, List.of())) {
      String name = (String) child.get("name");
      Map<String, Object> shown = new LinkedHashMap<>(child);
      shown.put("member", " ".repeat((level - 1) * 2) + "+ " + name);
      ordered.add(shown);
      addChildren(name, level + 1, children, ordered);
    }
  }

  /** Python's round(): halves to even. */
  private static long pythonRound(double value) {
    return (long) Math.rint(value);
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
}
