package io.pgha.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.ConfigException;
import io.pgha.config.ZooKeeperConfig;
import io.pgha.config.ZooKeeperSection;
import io.pgha.dcs.ClusterSnapshot;
import java.io.PrintStream;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What every pghactl command works with: the configuration patronictl would read (the Patroni YAML with
 * {@code PATRONI_*} overrides, and {@code --dcs-url}), standard input and output, and the connections to ZooKeeper
 * and to members' REST APIs, opened on first use and closed at the end.
 */
final class CtlContext implements AutoCloseable {
  /** Long enough for a loaded ensemble to answer, short enough that a dead one gives a prompt error. */
  static final Duration ZOOKEEPER_CONNECT_TIMEOUT = Duration.ofSeconds(3);
  /** TLS: a cold JVM spends seconds loading Netty and its TLS classes before the first byte goes out. */
  static final Duration ZOOKEEPER_TLS_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final List<String> OTHER_DCS = List.of("etcd", "etcd3", "consul", "exhibitor", "kubernetes", "raft");
  private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");

  final PrintStream out;
  final Prompts prompts;
  final Map<String, String> env;
  final ObjectNode config;
  final Clock clock;
  private final String zookeeperHosts;
  private final String namespace;
  private final boolean insecure;
  private ZkSession zk;
  private PatroniRest rest;

  /**
   * @param config the configuration tree (file plus environment), already with {@code --dcs-url} applied
   * @param insecure {@code -k}
   */
  CtlContext(PrintStream out, Prompts prompts, Map<String, String> env, ObjectNode config, boolean insecure,
      Clock clock) throws CtlException {
    this.out = out;
    this.prompts = prompts;
    this.env = env;
    this.config = config;
    this.clock = clock;
    this.insecure = insecure || ClusterSnapshot.parseBool(config.path("ctl").get("insecure"));
    this.zookeeperHosts = zookeeperHosts(config);
    String ns = config.path("namespace").asText("/service");
    this.namespace = ns.isBlank() ? "/service" : ns;
  }

  /** {@code --dcs-url [scheme://]host[:port][/namespace]}: replaces the DCS section (and the namespace, if given). */
  static void applyDcsUrl(ObjectNode config, String dcsUrl) throws CtlException {
    URI uri;
    try {
      uri = URI.create(dcsUrl.contains("//") ? dcsUrl : "//" + dcsUrl);
    } catch (IllegalArgumentException e) {
      throw new CtlException("Invalid dcs url: " + dcsUrl);
    }
    String scheme = uri.getScheme();
    int port = uri.getPort();
    if (scheme == null || scheme.isEmpty()) {
      scheme = port == -1 || port == 2181 ? "zookeeper" : "etcd";
    }
    if (!scheme.equals("zookeeper")) {
      if (OTHER_DCS.contains(scheme)) {
        throw new CtlException("pghactl supports only ZooKeeper, not " + scheme + " (" + dcsUrl + ")");
      }
      throw new CtlException("Unknown dcs scheme: " + scheme);
    }
    for (String dcs : OTHER_DCS) {
      config.remove(dcs);
    }
    String host = uri.getHost() == null ? "localhost" : uri.getHost();
    config.putObject("zookeeper").putArray("hosts").add(host + ":" + (port == -1 ? 2181 : port));
    if (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
      config.put("namespace", uri.getPath());
    }
  }

  /** {@code zookeeper.hosts}: a list or a comma-separated string; a host without port gets 2181. Null when absent. */
  private static String zookeeperHosts(ObjectNode config) {
    JsonNode hosts = config.path("zookeeper").get("hosts");
    if (hosts == null || hosts.isNull()) {
      return null;
    }
    List<String> list = new ArrayList<>();
    if (hosts.isArray()) {
      hosts.forEach(h -> list.add(h.asText().trim()));
    } else {
      for (String h : hosts.asText().split(",")) {
        list.add(h.trim());
      }
    }
    List<String> withPorts = new ArrayList<>();
    for (String host : list) {
      if (!host.isEmpty()) {
        withPorts.add(host.matches(".*:\\d+$") ? host : host + ":2181");
      }
    }
    return withPorts.isEmpty() ? null : String.join(",", withPorts);
  }

  /** The cluster named on the command line, else {@code scope} from the configuration. */
  String clusterName(String given) throws CtlException {
    if (given != null) {
      return given;
    }
    String scope = config.path("scope").asText(null);
    if (scope == null || scope.isEmpty()) {
      throw new CtlException("no cluster name given and no scope in the configuration");
    }
    return scope;
  }

  /** {@code /<namespace>/<cluster>} with duplicate and trailing slashes collapsed, as Patroni builds it. */
  String basePath(String cluster) {
    String collapsed = ("/" + namespace + "/" + cluster).replaceAll("/+", "/");
    return collapsed.endsWith("/") ? collapsed.substring(0, collapsed.length() - 1) : collapsed;
  }

  ZkSession zk() throws CtlException {
    if (zk == null) {
      if (zookeeperHosts == null) {
        for (String dcs : OTHER_DCS) {
          if (config.has(dcs)) {
            throw new CtlException("pghactl supports only ZooKeeper: the configuration has a '" + dcs + "' section");
          }
        }
        throw new CtlException("no zookeeper.hosts in the configuration (or --dcs-url)");
      }
      try {
        ZooKeeperConfig settings = zookeeperSettings();
        zk = ZkSession.connect(settings,
            settings.tls() != null ? ZOOKEEPER_TLS_CONNECT_TIMEOUT : ZOOKEEPER_CONNECT_TIMEOUT);
      } catch (ClusterTable.UnreachableException e) {
        throw new CtlException(e.getMessage());
      }
    }
    return zk;
  }

  /** The hosts, with the section's TLS, {@code auth_data} and {@code set_acls} as the agent applies them. */
  private ZooKeeperConfig zookeeperSettings() throws CtlException {
    ZooKeeperConfig section;
    try {
      section = ZooKeeperSection.fromTree(config);
    } catch (ConfigException e) {
      throw new CtlException(e.getMessage());
    }
    return new ZooKeeperConfig(List.of(zookeeperHosts), section.tls(), section.authData(), section.acls());
  }

  /** A fresh read of the cluster. */
  ClusterSnapshot cluster(String name) throws CtlException {
    return zk("read cluster " + name + " from ZooKeeper at " + zookeeperHosts, session -> session.read(basePath(name)));
  }

  /** One use of the ZooKeeper session. */
  interface ZkCall<T> {
    T apply(ZkSession session) throws Exception;
  }

  /** Runs {@code call} on the session; a failure becomes {@code cannot <what>: <reason>}. */
  <T> T zk(String what, ZkCall<T> call) throws CtlException {
    ZkSession session = zk();
    try {
      return call.apply(session);
    } catch (CtlException e) {
      throw e;
    } catch (Exception e) {
      throw new CtlException("cannot " + what + ": " + (e.getMessage() == null ? e : e.getMessage()));
    }
  }

  PatroniRest rest() {
    if (rest == null) {
      rest = new PatroniRest(new PatroniRest.Settings(basicAuth(), setting("cacert", "cafile"),
          setting("certfile", "certfile"), setting("keyfile", "keyfile"),
          setting("keyfile_password", "keyfile_password"), insecure));
    }
    return rest;
  }

  /** {@code user:password} from {@code ctl.authentication} (or {@code ctl.auth}), else the {@code restapi} ones. */
  private String basicAuth() {
    for (String section : List.of("ctl", "restapi")) {
      JsonNode authentication = config.path(section).path("authentication");
      if (authentication.isObject() && authentication.has("username")) {
        return authentication.path("username").asText() + ":" + authentication.path("password").asText("");
      }
      String auth = config.path(section).path("auth").asText("");
      if (!auth.isEmpty()) {
        return auth;
      }
    }
    return null;
  }

  private String setting(String ctlName, String restapiName) {
    String value = config.path("ctl").path(ctlName).asText("");
    if (value.isEmpty()) {
      value = config.path("restapi").path(restapiName).asText("");
    }
    return value.isEmpty() ? null : value;
  }

  /**
   * patronictl's {@code timestamp(precision)}: {@code strftime('%Y-%m-%d %H:%M:%S.%f')[:precision - 7]}, so 6 gives
   * five digits of the second and 0 none.
   */
  String timestamp(int precision) {
    String full = LocalDateTime.now(clock).format(TIMESTAMP);
    return full.substring(0, full.length() - 7 + precision);
  }

  void echo(String line) {
    out.println(line);
  }

  /** patronictl's {@code output_members}: the member table (and, in pretty form, maintenance and switchover lines). */
  void printMembers(ClusterSnapshot cluster, String name, boolean extended, ClusterTable.Format format) {
    out.print(ClusterTable.of(cluster, name, extended).render(format));
  }

  /**
   * Ends the ZooKeeper session on a daemon thread: the command's output is complete, and waiting for ZooKeeper to
   * acknowledge (a logged transaction, about 0.1 s) would only delay the exit. A session the exiting process cuts
   * short simply expires on the server; it holds no ephemeral znodes.
   */
  @Override
  public void close() {
    if (zk != null) {
      Thread closer = new Thread(zk::close, "pghactl-zookeeper-close");
      closer.setDaemon(true);
      closer.start();
    }
  }
}
