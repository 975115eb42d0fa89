package io.pgha.ha.port;

import io.pgha.ha.NodeStatus;
import java.time.Duration;

/**
 * What the loop tells the rest of the agent: decision lines (the decision log is written by the loop itself),
 * the node status for the REST API, metrics. The metric methods default to nothing, for tests.
 */
public interface Reporter {
  /** One {@code ha.decision ...} line, for the REST API's and CLI's watchers. */
  void decided(String line);

  /** This member's status changed (what {@code /patroni} answers). */
  void status(NodeStatus status);

  /** The agent cannot go on: exit now (postgres is left as it is). */
  void fatal(String why);

  default void decision(String reason) {}

  default void haCycle(Duration took) {}

  default void leaderChanged(long wallMs) {}

  /** Every new view (the gauge of members claiming to be primary). */
  default void viewSeen(io.pgha.decision.ClusterView view) {}

  default void zookeeperConnected(boolean connected) {}

  default void zookeeperReconnect() {}

  default void dynamicConfigApplied() {}

  default void dynamicConfigInvalid(boolean invalid) {}

  default void switchover(Duration took) {}

  default void failover(Duration took) {}
}
