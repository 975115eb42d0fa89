package io.pgha;

import io.pgha.agent.Agent;
import io.pgha.dcs.ZkClients;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;
import java.util.Arrays;

/** {@code pgha <config.yml>} runs an agent; {@code pgha zookeeper|demo|ctl ...} run the other commands. */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    configureLogging();
    ZkClients.prepareJvm();
    if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
      System.out.println("usage: pgha <config.yml>            run one agent (Patroni-format YAML)\n"
          + "       pgha demo                     run a local three-member cluster\n"
          + "       pgha zookeeper [--port N] [--data DIR]   run a ZooKeeper server\n"
          + "       pgha ctl ...                  the pghactl command line\n"
          + "       pgha --version");
      System.exit(args.length == 0 ? 2 : 0);
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "--version", "version" -> System.out.println("pgha " + Version.PGHA);
      case "zookeeper" -> delegate("io.pgha.zk.ZooKeeperCommand", rest);
      case "demo" -> delegate("io.pgha.demo.Demo", rest);
      case "ctl" -> delegate("io.pgha.cli.Ctl", rest);
      default -> System.exit(Agent.run(Path.of(args[0])));
    }
  }

  private static void delegate(String className, String[] args) throws Exception {
    try {
      Class.forName(className).getMethod("main", String[].class).invoke(null, (Object) args);
    } catch (InvocationTargetException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }

  /** slf4j-simple reads these once, when the first logger is made: set them before anything logs. */
  private static void configureLogging() {
    setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
    setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd HH:mm:ss,SSS");
    setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
    setIfAbsent("org.slf4j.simpleLogger.logFile", "System.out");
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", System.getenv().getOrDefault("PGHA_LOG_LEVEL", "info"));
    setIfAbsent("org.slf4j.simpleLogger.log.org.apache.zookeeper", "warn");
    setIfAbsent("org.slf4j.simpleLogger.log.org.apache.curator", "warn");
    setIfAbsent("org.slf4j.simpleLogger.log.io.netty", "warn");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) System.setProperty(key, value);
  }
}
