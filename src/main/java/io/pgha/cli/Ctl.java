package io.pgha.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.config.ConfigException;
import io.pgha.config.ConfigLoader;
import io.pgha.config.PghaConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * {@code pghactl}: the patronictl commands pgha offers so far, reading the same Patroni YAML.
 *
 * <pre>
 * pghactl [-c CONFIG] [--dcs-url zookeeper://HOST:PORT[/NAMESPACE]] list [CLUSTER] [-e] [-f pretty|tsv|json]
 * pghactl [-c CONFIG] version
 * </pre>
 *
 * Errors print one line on stderr and exit 1; an unreachable ZooKeeper is reported within a few seconds.
 */
public final class Ctl {

  static final String USAGE = """
      usage: pghactl [-c CONFIG] [--dcs-url zookeeper://HOST:PORT[/NAMESPACE]] COMMAND
        list [CLUSTER] [-e|--extended] [-f|--format pretty|tsv|json]   members of the cluster
        version                                                         pghactl version""";

  /** Long enough for a loaded ensemble to answer, short enough that a dead one gives a prompt error. */
  private static final Duration ZOOKEEPER_CONNECT_TIMEOUT = Duration.ofSeconds(3);
  private static final String DEFAULT_NAMESPACE = "service";

  private final PrintStream out;
  private final Map<String, String> env;

  Ctl(PrintStream out, Map<String, String> env) {
    this.out = out;
    this.env = env;
  }

  public static void main(String[] args) {
    // the ZooKeeper client logs every connection attempt, on stdout when started through Main: a CLI prints only
    // its own messages, unless PGHA_LOG_LEVEL asks for logs
    if (System.getenv("PGHA_LOG_LEVEL") == null) {
      for (String logger : new String[] {"defaultLogLevel", "log.org.apache.zookeeper", "log.org.apache.curator"}) {
        System.setProperty("org.slf4j.simpleLogger." + logger, "off");
      }
    }
    int exitCode;
    try {
      exitCode = new Ctl(System.out, System.getenv()).run(args);
    } catch (CtlException e) {
      System.err.println("pghactl: " + e.getMessage());
      exitCode = 1;
    }
    System.out.flush();
    System.exit(exitCode);
  }

  /** A failure to report as one line on stderr. */
  static final class CtlException extends Exception {
    CtlException(String message) {
      super(message);
    }
  }

  int run(String[] args) throws CtlException {
    Path configFile = null;
    String dcsUrl = env.get("DCS_URL");
    int i = 0;
    for (; i < args.length && args[i].startsWith("-"); i++) {
      switch (args[i]) {
        case "-c", "--config-file" -> configFile = Path.of(value(args, ++i, "-c"));
        case "-d", "--dcs-url", "--dcs" -> dcsUrl = value(args, ++i, "--dcs-url");
        case "-h", "--help" -> {
          out.println(USAGE);
          return 0;
        }
        default -> throw new CtlException("unknown option " + args[i] + "\n" + USAGE);
      }
    }
    if (i >= args.length) {
      throw new CtlException("missing command\n" + USAGE);
    }
    String command = args[i];
    List<String> rest = List.of(args).subList(i + 1, args.length);
    return switch (command) {
      case "list" -> list(settings(configFile, dcsUrl), rest);
      case "version" -> {
        out.println("pghactl version " + version());
        yield 0;
      }
      default -> throw new CtlException("unknown command " + command + "\n" + USAGE);
    };
  }

  private int list(Settings settings, List<String> args) throws CtlException {
    boolean extended = false;
    ClusterTable.Format format = ClusterTable.Format.PRETTY;
    List<String> clusters = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      switch (arg) {
        case "-e", "--extended" -> extended = true;
        case "-f", "--format" -> format = format(value(args.toArray(String[]::new), ++i, arg));
        default -> {
          if (arg.startsWith("-")) {
            throw new CtlException("unknown option " + arg + " for list");
          }
          clusters.add(arg);
        }
      }
    }
    if (clusters.isEmpty()) {
      if (settings.scope() == null) {
        throw new CtlException("no cluster name given and no scope in the configuration");
      }
      clusters.add(settings.scope());
    }
    if (settings.hosts() == null || settings.hosts().isEmpty()) {
      throw new CtlException("no zookeeper.hosts in the configuration (or --dcs-url)");
    }
    for (String cluster : clusters) {
      ClusterSnapshot snapshot;
      try {
        snapshot = ClusterTable.read(settings.hosts(), basePath(settings.namespace(), cluster),
            ZOOKEEPER_CONNECT_TIMEOUT);
      } catch (ClusterTable.UnreachableException e) {
        throw new CtlException(e.getMessage());
      } catch (Exception e) {
        throw new CtlException("cannot read cluster " + cluster + " from ZooKeeper at " + settings.hosts() + ": "
            + e.getMessage());
      }
      out.print(ClusterTable.of(snapshot, cluster, extended).render(format));
    }
    return 0;
  }

  private static ClusterTable.Format format(String name) throws CtlException {
    return switch (name) {
      case "pretty" -> ClusterTable.Format.PRETTY;
      case "tsv" -> ClusterTable.Format.TSV;
      case "json" -> ClusterTable.Format.JSON;
      default -> throw new CtlException("unsupported format " + name + " (pretty, tsv, json)");
    };
  }

  /** {@code /<namespace>/<scope>} with duplicate and trailing slashes collapsed, as Patroni builds it. */
  static String basePath(String namespace, String scope) {
    String collapsed = ("/" + namespace + "/" + scope).replaceAll("/+", "/");
    return collapsed.endsWith("/") ? collapsed.substring(0, collapsed.length() - 1) : collapsed;
  }

  /** What list needs from the configuration: ZooKeeper connect string, namespace, scope. */
  record Settings(String hosts, String namespace, String scope) {}

  /**
   * Reads {@code zookeeper.hosts}, {@code namespace} and {@code scope} from the Patroni YAML (explicit file, else
   * {@code $PATRONICTL_CONFIG_FILE}, else the optional {@code ~/.config/patroni/patronictl.yaml}), then applies
   * {@code PATRONI_SCOPE}/{@code PATRONI_NAMESPACE}/{@code PATRONI_ZOOKEEPER_HOSTS} and {@code --dcs-url}.
   */
  Settings settings(Path configFile, String dcsUrl) throws CtlException {
    JsonNode yaml = null;
    Path file = configFile;
    boolean explicit = configFile != null;
    if (file == null && env.get("PATRONICTL_CONFIG_FILE") != null) {
      file = Path.of(env.get("PATRONICTL_CONFIG_FILE"));
      explicit = true;
    }
    if (file == null && env.get("HOME") != null) {
      file = Path.of(env.get("HOME"), ".config", "patroni", "patronictl.yaml");
    }
    if (file != null && Files.exists(file)) {
      Optional<Settings> agentView = agentSettings(file);
      if (agentView.isPresent()) {
        return withOverrides(agentView.get(), dcsUrl);
      }
      try (InputStream in = Files.newInputStream(file)) {
        yaml = new ObjectMapper(new YAMLFactory()).readTree(in);
      } catch (IOException e) {
        throw new CtlException("cannot read " + file + ": " + e.getMessage());
      }
    } else if (explicit) {
      throw new CtlException("config file " + file + " does not exist");
    }
    String scope = text(yaml, "scope");
    String namespace = text(yaml, "namespace");
    String hosts = yaml == null ? null : hosts(yaml.path("zookeeper").get("hosts"));
    scope = env.getOrDefault("PATRONI_SCOPE", scope);
    namespace = env.getOrDefault("PATRONI_NAMESPACE", namespace);
    if (env.get("PATRONI_ZOOKEEPER_HOSTS") != null) {
      hosts = hosts(new ObjectMapper(new YAMLFactory()).valueToTree(parseYamlValue(env.get("PATRONI_ZOOKEEPER_HOSTS"))));
    }
    return withOverrides(new Settings(hosts, namespace == null ? DEFAULT_NAMESPACE : namespace, scope), dcsUrl);
  }

  /**
   * A complete agent configuration read exactly as the agent reads it ({@code PATRONI_*} overrides included), so
   * pghactl looks where the agent writes. Empty for the minimal files patronictl also accepts (scope and
   * {@code zookeeper} only), which the agent's loader rejects.
   */
  private Optional<Settings> agentSettings(Path file) {
    try {
      // the binaries do not matter here: do not make a machine without PostgreSQL fail the lookup
      PghaConfig config = ConfigLoader.load(file, env, configured -> Path.of("/"));
      return Optional.of(new Settings(config.zookeeper().connectString(), config.namespace(), config.scope()));
    } catch (ConfigException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** {@code --dcs-url zookeeper://host:port/namespace} replaces the DCS settings of the file. */
  private static Settings withOverrides(Settings settings, String dcsUrl) throws CtlException {
    String hosts = settings.hosts();
    String namespace = settings.namespace();
    if (dcsUrl != null) {
      URI uri = URI.create(dcsUrl.contains("://") ? dcsUrl : "zookeeper://" + dcsUrl);
      if (!"zookeeper".equals(uri.getScheme())) {
        throw new CtlException("only zookeeper:// DCS URLs are supported, not " + dcsUrl);
      }
      hosts = uri.getHost() + ":" + (uri.getPort() == -1 ? 2181 : uri.getPort());
      if (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
        namespace = uri.getPath();
      }
    }
    return new Settings(hosts, namespace, settings.scope());
  }

  private static Object parseYamlValue(String text) throws CtlException {
    try {
      return new ObjectMapper(new YAMLFactory()).readValue(text, Object.class);
    } catch (IOException e) {
      throw new CtlException("cannot parse PATRONI_ZOOKEEPER_HOSTS: " + e.getMessage());
    }
  }

  /** {@code zookeeper.hosts}: a list or a comma-separated string; a host without port gets 2181. */
  private static String hosts(JsonNode hosts) {
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
    return String.join(",", withPorts);
  }

  private static String text(JsonNode yaml, String key) {
    return yaml == null || !yaml.hasNonNull(key) ? null : yaml.get(key).asText();
  }

  private static String value(String[] args, int index, String option) throws CtlException {
    if (index >= args.length) {
      throw new CtlException("missing value for " + option);
    }
    return args[index];
  }

  /** The project version recorded by Maven in the jar. */
  static String version() {
    try (InputStream in = Ctl.class.getResourceAsStream("/META-INF/maven/io.pgha/pgha/pom.properties")) {
      if (in != null) {
        Properties properties = new Properties();
        properties.load(in);
        return properties.getProperty("version", "unknown");
      }
    } catch (IOException e) {
      // fall through
    }
    return "unknown";
  }
}
