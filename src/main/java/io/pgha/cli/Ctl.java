package io.pgha.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.ConfigException;
import io.pgha.config.ConfigLoader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;

/**
 * {@code pghactl}: patronictl's commands for a pgha (or Patroni) cluster, reading the same Patroni YAML, the same
 * ZooKeeper keys and calling the same REST API (patroni-compat §7). Errors print one line on stderr
 * ({@code Error: ...}) and exit 1, or 2 for a usage mistake; an unreachable ZooKeeper is reported within seconds.
 */
public final class Ctl {

  static final String USAGE = """
      Usage: pghactl [-c CONFIG] [-d zookeeper://HOST:PORT[/NAMESPACE]] [-k] COMMAND [ARGS]...

      Commands (patronictl's, with its options):
        list [CLUSTER...] [-e] [-t] [-f pretty|tsv|json|yaml] [-W|-w N]
        topology [CLUSTER...] [-W|-w N]
        switchover [CLUSTER] [--leader|--primary|--master L] [--candidate C] [--scheduled TS] [--force]
        failover [CLUSTER] [--candidate C] [--force]
        restart CLUSTER [MEMBER...] [-r ROLE] [--any] [--scheduled TS] [--pg-version V] [--pending]
                [--timeout T] [--force]
        reinit CLUSTER [MEMBER...] [--from-leader] [--wait] [--force]
        reload CLUSTER [MEMBER...] [-r ROLE] [--force]
        pause|resume [CLUSTER] [--wait]
        demote-cluster [CLUSTER] [--host H] [--port P] [--restore-command C] [--primary-slot-name S] [--force]
        promote-cluster [CLUSTER] [--force]
        show-config [CLUSTER]
        edit-config [CLUSTER] [-q] [-s K=V]... [-p K=V]... [--apply F|-] [--replace F|-] [--force]
        dsn [CLUSTER] [-r ROLE | -m MEMBER]
        query [CLUSTER] [-r ROLE | -m MEMBER] (-c SQL | -f FILE) [-U USER] [--password] [-d DB]
              [--format FMT] [--delimiter D] [-W|-w N]
        remove CLUSTER [-f FMT]
        flush CLUSTER [MEMBER...] restart|switchover [-r ROLE] [--force]
        history [CLUSTER] [-f FMT]
        version [CLUSTER [MEMBER...]]
        scaffold CLUSTER [--sysid SYSID]
        configure [-c FILE] [-d DCS_URL] [-n NAMESPACE] [--scope NAME] [--username U] [--force]""";

  private final PrintStream out;
  private final Map<String, String> env;
  private final Prompts prompts;
  private final Clock clock;
  private final Random random;

  Ctl(PrintStream out, Map<String, String> env, Prompts prompts, Clock clock, Random random) {
    this.out = out;
    this.env = env;
    this.prompts = prompts;
    this.clock = clock;
    this.random = random;
  }

  public static void main(String[] args) {
    // the ZooKeeper client logs every connection attempt, on stdout when started through Main: a CLI prints only
    // its own messages, unless PGHA_LOG_LEVEL asks for logs
    if (System.getenv("PGHA_LOG_LEVEL") == null) {
      for (String logger : new String[] {"defaultLogLevel", "log.org.apache.zookeeper", "log.org.apache.curator"}) {
        System.setProperty("org.slf4j.simpleLogger." + logger, "off");
      }
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    Prompts prompts = new Prompts(in, System.out, System.console());
    int exitCode = new Ctl(System.out, System.getenv(), prompts, Clock.systemDefaultZone(), new Random())
        .main(args, System.err);
    System.out.flush();
    System.exit(exitCode);
  }

  /** Runs the command line; failures go to {@code err} as one line. Returns the exit code. */
  int main(String[] args, PrintStream err) {
    try {
      return run(args);
    } catch (CtlException e) {
      out.flush();
      err.println(e.line());
      return e.exitCode();
    }
  }

  int run(String[] args) throws CtlException {
    String configFile = env.get("PATRONICTL_CONFIG_FILE");
    boolean explicitFile = configFile != null;
    String dcsUrl = env.get("DCS_URL");
    boolean insecure = false;
    int i = 0;
    for (; i < args.length && args[i].startsWith("-") && !args[i].equals("-"); i++) {
      String arg = args[i];
      int eq = arg.startsWith("--") ? arg.indexOf('=') : -1;
      String name = eq < 0 ? arg : arg.substring(0, eq);
      switch (name) {
        case "-c", "--config-file" -> {
          configFile = eq < 0 ? globalValue(args, ++i, name) : arg.substring(eq + 1);
          explicitFile = true;
        }
        case "-d", "--dcs-url", "--dcs" -> dcsUrl = eq < 0 ? globalValue(args, ++i, name) : arg.substring(eq + 1);
        case "-k", "--insecure" -> insecure = true;
        case "-h", "--help" -> {
          out.println(USAGE);
          return 0;
        }
        default -> throw CtlException.usage("No such option: " + name);
      }
    }
    if (i >= args.length) {
      throw CtlException.usage("Missing command.\n" + USAGE);
    }
    String command = args[i];
    List<String> rest = List.of(args).subList(i + 1, args.length);
    if (rest.contains("--help")) {
      out.println(USAGE);
      return 0;
    }
    String defaultFile = Path.of(env.getOrDefault("HOME", System.getProperty("user.home")),
        ".config", "patroni", "patronictl.yaml").toString();
    if (command.equals("configure")) {
      return ConfigureCommand.run(prompts, out, configFile == null ? defaultFile : configFile, rest);
    }
    if (command.equals("version") && rest.isEmpty()) {
      out.println("pghactl version " + version());
      return 0;
    }
    ObjectNode config = config(explicitFile ? Path.of(configFile) : Path.of(defaultFile), explicitFile);
    if (dcsUrl != null) {
      CtlContext.applyDcsUrl(config, dcsUrl);
    }
    try (CtlContext ctx = new CtlContext(out, prompts, env, config, insecure, clock)) {
      return switch (command) {
        case "list" -> ListCommand.run(ctx, rest, false);
        case "topology" -> ListCommand.run(ctx, rest, true);
        case "switchover" -> SwitchoverCommand.run(ctx, rest, false);
        case "failover" -> SwitchoverCommand.run(ctx, rest, true);
        case "restart" -> RestartCommand.run(ctx, rest, random);
        case "reinit" -> ReinitCommand.run(ctx, rest);
        case "reload" -> ReloadCommand.run(ctx, rest);
        case "pause" -> PauseCommand.run(ctx, rest, true);
        case "resume" -> PauseCommand.run(ctx, rest, false);
        case "demote-cluster" -> ClusterRoleCommand.demote(ctx, rest);
        case "promote-cluster" -> ClusterRoleCommand.promote(ctx, rest);
        case "show-config" -> EditConfigCommand.show(ctx, rest);
        case "edit-config" -> EditConfigCommand.edit(ctx, rest);
        case "dsn" -> DsnCommand.run(ctx, rest);
        case "query" -> QueryCommand.run(ctx, rest);
        case "remove" -> RemoveCommand.run(ctx, rest);
        case "flush" -> FlushCommand.run(ctx, rest);
        case "history" -> HistoryCommand.run(ctx, rest);
        case "version" -> VersionCommand.run(ctx, rest);
        case "scaffold" -> ScaffoldCommand.run(ctx, rest);
        default -> throw CtlException.usage("No such command '" + command + "'.");
      };
    }
  }

  private static String globalValue(String[] args, int index, String option) throws CtlException {
    if (index >= args.length) {
      throw CtlException.usage("Option '" + option + "' requires an argument.");
    }
    return args[index];
  }

  /**
   * The Patroni YAML at {@code file} with {@code PATRONI_*} overrides, as patronictl loads it: an explicitly named
   * file must exist and be readable, the default one is optional.
   */
  private ObjectNode config(Path file, boolean explicit) throws CtlException {
    boolean readable = Files.isReadable(file);
    if (!readable && explicit) {
      throw new CtlException("Provided config file " + file
          + " not existing or no read rights. Check the -c/--config-file parameter");
    }
    try {
      return ConfigLoader.rawTree(readable ? file : null, env);
    } catch (ConfigException e) {
      throw new CtlException(e.getMessage());
    }
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
