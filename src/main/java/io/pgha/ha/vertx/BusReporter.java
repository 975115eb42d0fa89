package io.pgha.ha.vertx;

import io.pgha.bus.Addresses;
import io.pgha.decision.ClusterView;
import io.pgha.ha.NodeStatus;
import io.pgha.ha.port.Reporter;
import io.pgha.metrics.PghaMetrics;
import io.vertx.core.Vertx;
import java.time.Duration;

/** The {@link Reporter} port: decision lines and the node status on the local bus, metrics to Micrometer. */
final class BusReporter implements Reporter {
  private final Vertx vertx;
  private final PghaMetrics metrics;

  BusReporter(Vertx vertx, PghaMetrics metrics) {
    this.vertx = vertx;
    this.metrics = metrics;
  }

  @Override public void decided(String line) { vertx.eventBus().publish(Addresses.HA_DECIDED, line); }

  @Override public void status(NodeStatus status) { vertx.eventBus().publish(Addresses.HA_STATUS_CHANGED, status); }

  @Override
  public void fatal(String why) {
    System.err.println("pgha: " + why);
    Runtime.getRuntime().halt(1);
  }

  @Override public void decision(String reason) { metrics.decision(reason); }

  @Override public void haCycle(Duration took) { metrics.haCycle(took); }

  @Override public void leaderChanged(long wallMs) { metrics.leaderChanged(wallMs); }

  @Override public void viewSeen(ClusterView view) { metrics.membersClaimingPrimary(PghaMetrics.countClaimingPrimary(view)); }

  @Override public void zookeeperConnected(boolean connected) { metrics.zookeeperConnected(connected); }

  @Override public void zookeeperReconnect() { metrics.zookeeperReconnect(); }

  @Override public void dynamicConfigApplied() { metrics.dynamicConfigApplied(); }

  @Override public void dynamicConfigInvalid(boolean invalid) { metrics.dynamicConfigInvalid(invalid); }

  @Override public void switchover(Duration took) { metrics.switchover(took); }

  @Override public void failover(Duration took) { metrics.failover(took); }
}
