package io.pgha.postgres;

import io.pgha.bus.Addresses;
import io.pgha.config.PghaConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * Hosts the {@link PostgresSupervisor}: postmaster starts, exits and crashes are published on
 * {@link Addresses#PG_POSTMASTER_CHANGED} the moment the process reports them; the operations are asynchronous calls
 * on {@link #supervisor()}, whose blocking parts run on a worker pool.
 */
public final class PostgresSupervisorVerticle extends VerticleBase {
  private final PghaConfig config;
  private PostgresSupervisor supervisor;

  public PostgresSupervisorVerticle(PghaConfig config) {
    this.config = config;
  }

  public PostgresSupervisor supervisor() {
    return supervisor;
  }

  @Override
  public Future<?> start() {
    supervisor = new PostgresSupervisor(context, config,
        event -> vertx.eventBus().publish(Addresses.PG_POSTMASTER_CHANGED, event));
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    if (supervisor != null) supervisor.close();
    return Future.succeededFuture();
  }
}
