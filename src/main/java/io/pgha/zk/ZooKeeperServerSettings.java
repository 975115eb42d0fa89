package io.pgha.zk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The zoo.cfg settings every ZooKeeper server pgha runs uses (in-JVM for the demo, a separate process for tests and
 * {@code pgha zookeeper}), tuned for HA timing rather than ZooKeeper's defaults.
 */
public final class ZooKeeperServerSettings {

  /**
   * Session expiry is checked in tickTime buckets, so a small tick makes a dead agent's leader key vanish close to
   * its ttl (ZooKeeper's default 2000 ms adds up to 2 s of jitter to every failover).
   */
  public static final int TICK_TIME_MS = 200;

  /** Patroni asks for a session timeout of ttl; the server would otherwise clamp it to [2, 20] x tickTime. */
  public static final int MIN_SESSION_TIMEOUT_MS = 2_000;

  public static final int MAX_SESSION_TIMEOUT_MS = 120_000;

  /** In ticks: 10 s for a follower to sync with a new leader, 5 s before a silent follower is dropped. */
  public static final int INIT_LIMIT_TICKS = 50;

  public static final int SYNC_LIMIT_TICKS = 25;

  private ZooKeeperServerSettings() {}

  /**
   * Properties for a server on 127.0.0.1:{@code clientPort} keeping its data in {@code dataDir}; with
   * {@code servers} (id to {@code host:quorumPort:electionPort}) non-empty, a member of that ensemble.
   */
  public static Properties properties(int clientPort, Path dataDir, Map<Integer, String> servers) {
    return properties(clientPort, dataDir, servers, TICK_TIME_MS);
  }

  /**
   * The same with another tickTime. At the default tick the session bounds are explicit ([2 s, 120 s]); at any other
   * tick they are left to ZooKeeper's own rule, [2, 20] x tickTime, as a stock server (tick 2000: [4 s, 40 s]) has
   * them, and initLimit/syncLimit keep their 10 s / 5 s in whole ticks (at least 1).
   */
  public static Properties properties(int clientPort, Path dataDir, Map<Integer, String> servers, int tickTimeMs) {
    Properties p = new Properties();
    p.setProperty("tickTime", Integer.toString(tickTimeMs));
    if (tickTimeMs == TICK_TIME_MS) {
      p.setProperty("minSessionTimeout", Integer.toString(MIN_SESSION_TIMEOUT_MS));
      p.setProperty("maxSessionTimeout", Integer.toString(MAX_SESSION_TIMEOUT_MS));
    }
    p.setProperty("initLimit", Integer.toString(Math.max(1, INIT_LIMIT_TICKS * TICK_TIME_MS / tickTimeMs)));
    p.setProperty("syncLimit", Integer.toString(Math.max(1, SYNC_LIMIT_TICKS * TICK_TIME_MS / tickTimeMs)));
    p.setProperty("dataDir", dataDir.toAbsolutePath().toString());
    p.setProperty("clientPort", Integer.toString(clientPort));
    p.setProperty("clientPortAddress", "127.0.0.1");
    // the admin server listens on 8080 by default: a fixed port would collide with every other server here
    p.setProperty("admin.enableServer", "false");
    p.setProperty("4lw.commands.whitelist", "*");
    // all agents, patronictl and tests connect from 127.0.0.1: no per-address connection limit
    p.setProperty("maxClientCnxns", "0");
    // keep the data dir small over long demo runs
    p.setProperty("autopurge.snapRetainCount", "3");
    p.setProperty("autopurge.purgeInterval", "1");
    servers.forEach((id, address) -> p.setProperty("server." + id, address));
    return p;
  }

  /** Parses {@code 1=127.0.0.1:2888:3888,2=...} as given to {@code pgha zookeeper --servers}. */
  public static Map<Integer, String> parseServers(String spec) {
    Map<Integer, String> servers = new LinkedHashMap<>();
    if (spec == null || spec.isBlank()) {
      return servers;
    }
    for (String entry : spec.split(",")) {
      String[] idAndAddress = entry.trim().split("=", 2);
      if (idAndAddress.length != 2 || idAndAddress[1].split(":").length < 3) {
        throw new IllegalArgumentException("bad server '" + entry + "', expected ID=HOST:QUORUM_PORT:ELECTION_PORT");
      }
      servers.put(Integer.parseInt(idAndAddress[0].trim()), idAndAddress[1].trim());
    }
    return servers;
  }

  /** Writes {@code myid}, which an ensemble member reads from its data dir to know which server.N it is. */
  public static void writeMyId(Path dataDir, int id) {
    try {
      Files.createDirectories(dataDir);
      Files.writeString(dataDir.resolve("myid"), id + "\n", StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write myid in " + dataDir, e);
    }
  }
}
