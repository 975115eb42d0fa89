package io.pgha.dcs;

import io.pgha.config.DynamicConfig;
import io.pgha.config.PghaConfig;

/** The ZooKeeper session's timeouts as Patroni derives them from the bootstrap configuration (§1.5). */
public final class SessionTimeouts {
  private SessionTimeouts() {}

  /** The session timeout to ask ZooKeeper for: ttl from the bootstrap configuration. */
  public static int sessionTimeoutMs(PghaConfig config) {
    return DynamicConfig.parse(config.bootstrap().dcs()).ttlSeconds() * 1000;
  }

  /** Connection timeout per server, {@code max(1, loop_wait/2)} s as Patroni tunes it. */
  public static int connectionTimeoutMs(PghaConfig config) {
    return Math.max(1000, DynamicConfig.parse(config.bootstrap().dcs()).loopWaitSeconds() * 500);
  }
}
