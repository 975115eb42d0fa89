package io.pgha.zk;

import io.pgha.config.ZooKeeperSection;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.zookeeper.server.embedded.ExitHandler;

/**
 * {@code pgha zookeeper [--port N] [--data DIR] [--id N --servers 1=H:P:P,2=...] [--config zoo.cfg] [--tick-time MS]}: runs a real
 * ZooKeeper server (standalone, or one member of an ensemble) in this JVM until SIGTERM or Ctrl-C, so a cluster
 * needs nothing but the pgha jar. Settings come from {@link ZooKeeperServerSettings}; a {@code --config} file is
 * applied on top of them and the other options on top of that.
 */
public final class ZooKeeperCommand {

  private static final String USAGE = "usage: pgha zookeeper [--port N] [--data DIR] [--id N --servers "
      + "1=127.0.0.1:2888:3888,2=...] [--config zoo.cfg] [--tick-time MS]\n"
      + "  TLS: --tls-port N --tls-keystore SERVER.pem (key and certificate) [--tls-keystore-password P]\n"
      + "       [--tls-truststore CA.pem [--tls-client-auth need|want|none]] [--tls-only]\n"
      + "  digest: [--super-digest USER:PASSWORD]; pgha zookeeper --print-digest USER:PASSWORD prints the\n"
      + "       set_acls principal digest:USER:HASH";

  private static final int DEFAULT_PORT = 2181;
  private static final Path DEFAULT_DATA_DIR = Path.of("data", "zookeeper");

  private ZooKeeperCommand() {}

  public static void main(String[] args) {
    quietServerLogging();
    Properties properties;
    try {
      properties = properties(args);
    } catch (PrintDigest e) {
      System.out.println(e.getMessage());
      System.exit(0);
      return;
    } catch (IllegalArgumentException | IOException e) {
      System.err.println("pgha zookeeper: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    String where = where(properties);
    EmbeddedZooKeeper server;
    try {
      // EXIT: this JVM exists only to run the server, so a fatal server error must end it
      server = EmbeddedZooKeeper.start(properties, ExitHandler.EXIT);
    } catch (RuntimeException e) {
      System.err.println("pgha zookeeper: cannot serve on " + where + ": " + e.getMessage());
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      System.out.println("zookeeper: stopped");
      stopped.countDown();
    }, "zookeeper-stop"));
    System.out.println("zookeeper: serving on " + where + " (data " + server.dataDir() + ")");
    System.out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String where(Properties properties) {
    List<String> where = new ArrayList<>();
    if (properties.getProperty("clientPort") != null) {
      where.add("127.0.0.1:" + properties.getProperty("clientPort").trim());
    }
    if (properties.getProperty("secureClientPort") != null) {
      where.add("127.0.0.1:" + properties.getProperty("secureClientPort").trim() + " (TLS)");
    }
    return String.join(" and ", where);
  }

  static Properties properties(String[] args) throws IOException {
    Integer port = null;
    Integer tlsPort = null;
    boolean plain = true;
    Path keyStore = null;
    String keyStorePassword = null;
    Path trustStore = null;
    String clientAuth = null;
    String superDigest = null;
    Path dataDir = null;
    Integer id = null;
    Map<Integer, String> servers = Map.of();
    Path configFile = null;
    Integer tickTime = null;
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      if (option.equals("-h") || option.equals("--help")) {
        throw new IllegalArgumentException("help requested");
      }
      if (option.equals("--tls-only")) {
        plain = false;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value for " + option);
      }
      String value = args[++i];
      switch (option) {
        case "--port" -> port = parsePort(value);
        case "--data" -> dataDir = Path.of(value);
        case "--id" -> id = Integer.parseInt(value);
        case "--servers" -> servers = ZooKeeperServerSettings.parseServers(value);
        case "--config" -> configFile = Path.of(value);
        case "--tls-port" -> tlsPort = parsePort(value);
        case "--tls-keystore" -> keyStore = Path.of(value);
        case "--tls-keystore-password" -> keyStorePassword = value;
        case "--tls-truststore" -> trustStore = Path.of(value);
        case "--tls-client-auth" -> clientAuth = value;
        case "--super-digest" -> superDigest = value;
        case "--print-digest" -> throw new PrintDigest(value);
        case "--tick-time" -> tickTime = parseTickTime(value);
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }
    ServerSecurity security = new ServerSecurity(tlsPort, plain, keyStore, keyStorePassword, trustStore,
        clientAuth != null ? clientAuth : trustStore != null ? "need" : "none", superDigest);
    if ((id == null) != servers.isEmpty()) {
      throw new IllegalArgumentException("--id and --servers go together");
    }
    if (id != null && !servers.containsKey(id)) {
      throw new IllegalArgumentException("--servers has no entry for --id " + id);
    }
    Properties fromFile = new Properties();
    if (configFile != null) {
      try (InputStream in = Files.newInputStream(configFile)) {
        fromFile.load(in);
      }
    }
    int effectivePort = port != null ? port
        : Integer.parseInt(fromFile.getProperty("clientPort", Integer.toString(DEFAULT_PORT)).trim());
    Path effectiveDataDir = dataDir != null ? dataDir
        : Path.of(fromFile.getProperty("dataDir", DEFAULT_DATA_DIR.toString()).trim());
    Properties properties = ZooKeeperServerSettings.properties(effectivePort, effectiveDataDir, servers,
        tickTime != null ? tickTime : ZooKeeperServerSettings.TICK_TIME_MS);
    properties.putAll(fromFile);
    // explicit options win over the file
    properties.setProperty("clientPort", Integer.toString(effectivePort));
    properties.setProperty("dataDir", effectiveDataDir.toAbsolutePath().toString());
    properties.putAll(security.properties());
    if (!plain) {
      properties.remove("clientPort");
      properties.remove("clientPortAddress");
    }
    if (id != null) {
      ZooKeeperServerSettings.writeMyId(effectiveDataDir, id);
    }
    return properties;
  }

  /** {@code --print-digest USER:PASSWORD}: the answer is the digest principal, nothing is served. */
  static final class PrintDigest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PrintDigest(String userPassword) {
      super(principal(userPassword), null, false, false);
    }

    private static String principal(String userPassword) {
      int colon = userPassword.indexOf(':');
      if (colon <= 0) throw new IllegalArgumentException("--print-digest needs USER:PASSWORD");
      return "digest:" + ZooKeeperSection.digestId(userPassword.substring(0, colon),
          userPassword.substring(colon + 1));
    }
  }

  /** ZooKeeper's stock tick is 2000 ms; pgha's default, 200 ms, keeps expiry close to the session timeout. */
  private static int parseTickTime(String value) {
    int tick;
    try {
      tick = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--tick-time must be a whole number of ms (1..60000), got '" + value + "'");
    }
    if (tick < 1 || tick > 60_000) {
      throw new IllegalArgumentException("--tick-time must be 1..60000 ms, got " + tick);
    }
    return tick;
  }

  private static int parsePort(String value) {
    int port = Integer.parseInt(value);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + value);
    }
    return port;
  }

  /** ZooKeeper logs every connection at INFO; keep its output to warnings unless the user chose a level. */
  private static void quietServerLogging() {
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
    setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd HH:mm:ss.SSS");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
