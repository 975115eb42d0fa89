package io.pgha.ha.vertx;

import io.pgha.dcs.ZooKeeperDcs;
import io.pgha.ha.port.Clock;
import io.vertx.core.Vertx;

/** The {@link Clock} port over Vert.x timers; set from the HA loop's context, they fire on it. */
final class VertxClock implements Clock {
  private final Vertx vertx;

  VertxClock(Vertx vertx) {
    this.vertx = vertx;
  }

  @Override public long monotonicMs() { return ZooKeeperDcs.monotonicMs(); }

  @Override public long wallMs() { return System.currentTimeMillis(); }

  @Override
  public Timer after(long delayMs, Runnable task) {
    long id = vertx.setTimer(Math.max(1, delayMs), t -> task.run());
    return () -> vertx.cancelTimer(id);
  }
}
