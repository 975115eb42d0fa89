package io.pgha.dcs;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.config.ConfigException;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfigJson;
import io.pgha.config.PghaConfig;
import io.pgha.config.Values;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The ZooKeeper session's timeouts. Patroni asks for a session timeout of ttl (§1.5); pgha asks for two ticks less.
 * ZooKeeper expires sessions in tickTime buckets (a session of timeout T last touched at t expires by t + T + tick),
 * and in an ensemble a follower passes its clients' touches on to the leader only when the leader pings it, every
 * half tick: a client that went silent at t is gone by t + T + 1.5 ticks. A session of ttl − 2 ticks is therefore gone
 * half a tick before ttl, which leaves a new primary that half tick to take over. The primary's own fence and the
 * fencing guard follow the timeout the server actually granted, never ttl, so a shorter session only makes them
 * fence earlier.
 */
public final class SessionTimeouts {
  /** ZooKeeper's default tickTime, which most ensembles run (Debian's {@code zookeeper} package does). */
  public static final int TICK_TIME_DEFAULT_MS = 2000;
  /** The config key giving the ensemble's tickTime, when it is not ZooKeeper's default. */
  public static final String TICK_TIME_KEY = "zookeeper_tick_time";

  private SessionTimeouts() {}

  /** The session timeout to ask ZooKeeper for, from the bootstrap configuration and the ensemble's tick. */
  public static int sessionTimeoutMs(PghaConfig config, int tickMs) {
    return requestMs(DynamicConfigJson.parse(config.bootstrap().dcs()), tickMs);
  }

  /**
   * ttl − 2 ticks, unless that would leave the primary's fence (the session less 1 s) too little room to renew the
   * leader key within a loop_wait: then ttl, as Patroni asks.
   */
  public static int requestMs(DynamicConfig dynamic, int tickMs) {
    int ttlMs = dynamic.ttlSeconds() * 1000;
    int trimmed = ttlMs - 2 * tickMs;
    return trimmed >= dynamic.loopWaitSeconds() * 1000 + 2000 ? trimmed : ttlMs;
  }

  /**
   * The ensemble's tickTime: {@code pgha.zookeeper_tick_time} when set; else what the first server that answers
   * ZooKeeper's {@code conf} four-letter word reports (it must be whitelisted, as {@code pgha zookeeper} does; Debian's
   * default whitelist has {@code srvr} only); else ZooKeeper's default of 2000 ms. Asking takes a socket round
   * trip per server tried (300 ms at most each): the agent asks once, at start-up before its event loops run, and
   * passes the value on ({@code HaLoop.Options}). Assuming too small a tick only makes failover up to the difference slower; too large, the session shorter.
   */
  public static int tickTimeMs(PghaConfig config) {
    try {
      JsonNode node = config.raw().path("pgha").get(TICK_TIME_KEY);
      if (node != null && !node.isNull()) return checkedTickTimeMs(config);
    } catch (ConfigException e) {
      return TICK_TIME_DEFAULT_MS;
    }
    return askTickTime(config.zookeeper().connectString());
  }

  private static final int CONF_TIMEOUT_MS = 300;

  private static int askTickTime(String connectString) {
    for (String host : connectString.split(",")) {
      String hostPort = host.trim().split("/", 2)[0];
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0) continue;
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(hostPort.substring(0, colon),
            Integer.parseInt(hostPort.substring(colon + 1))), CONF_TIMEOUT_MS);
        socket.setSoTimeout(CONF_TIMEOUT_MS);
        socket.getOutputStream().write("conf".getBytes(StandardCharsets.US_ASCII));
        String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Integer tick = tickFromConf(answer);
        if (tick != null) return tick;
      } catch (IOException | RuntimeException e) {
        // next server; a server that refuses conf says "conf is not executed because it is not in the whitelist."
      }
    }
    return TICK_TIME_DEFAULT_MS;
  }

  /** The {@code tickTime=N} line of a {@code conf} answer, or null. */
  static Integer tickFromConf(String answer) {
    for (String line : answer.split("\\R")) {
      if (line.startsWith("tickTime=")) {
        try {
          int tick = Integer.parseInt(line.substring("tickTime=".length()).trim());
          return tick >= 1 && tick <= 60_000 ? tick : null;
        } catch (NumberFormatException e) {
          return null;
        }
      }
    }
    return null;
  }

  /** The same, with a one-line error for a value that is not a whole number of ms in 1..60000. */
  public static int checkedTickTimeMs(PghaConfig config) throws ConfigException {
    JsonNode node = config.raw().path("pgha").get(TICK_TIME_KEY);
    if (node == null || node.isNull()) return TICK_TIME_DEFAULT_MS;
    Long value = Values.integer(node);
    if (value == null || value < 1 || value > 60_000) {
      throw new ConfigException("pgha." + TICK_TIME_KEY + ": must be the ZooKeeper ensemble's tickTime in ms "
          + "(1..60000), got '" + node.asText() + "'");
    }
    return value.intValue();
  }

  /** Connection timeout per server, {@code max(1, loop_wait/2)} s as Patroni tunes it. */
  public static int connectionTimeoutMs(PghaConfig config) {
    return Math.max(1000, DynamicConfigJson.parse(config.bootstrap().dcs()).loopWaitSeconds() * 500);
  }
}
