package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.config.DynamicConfig;
import io.pgha.dcs.SessionTimeouts;
import io.pgha.decision.ClusterView;
import java.util.Objects;

/** The cluster's dynamic configuration in force (§8.3): a new {@code config} from the view, loudly ignored when it does not parse. */
final class ClusterConfig {

  private final HaLoop loop;

  ClusterConfig(HaLoop loop) {
    this.loop = loop;
  }

  /**
   * A new {@code config} takes effect at once; one that does not parse is ignored, loudly, and the last valid one
   * stays in force, so a typo written with zkCli cannot take the cluster down.
   */
  void take(ClusterView newView) {
    DynamicConfig before = loop.dynamic();
    if (newView.config() != null) loop.update(b -> b.lastValidConfig(floored(newView.config())));
    if (!Objects.equals(loop.state().configError(), newView.configError())) {
      if (newView.configError() != null) {
        LOG.error("ignoring the cluster configuration: {}; keeping the last valid one", newView.configError());
      } else if (loop.state().configError() != null) {
        LOG.info("the cluster configuration is valid again");
      }
      loop.update(b -> b.configError(newView.configError()));
      loop.reporter.dynamicConfigInvalid(newView.configError() != null);
    }
    DynamicConfig after = loop.dynamic();
    if (before == after || Objects.equals(before.raw(), after.raw())) return;
    loop.reporter.dynamicConfigApplied();
    after.warnings().forEach(w -> LOG.warn("config: {}", w));
    LOG.info("cluster configuration changed: {}", describeChange(before, after));
    if (before.loopWaitSeconds() != after.loopWaitSeconds()) loop.scheduleLoop();
    if (before.ttlSeconds() != after.ttlSeconds()) {
      if (loop.state().heartbeatTimer() != null) {
        loop.state().heartbeatTimer().cancel(); // its period follows ttl
        loop.update(b -> b.heartbeatTimer(null));
      }
      renewSession(after);
    }
    if (before.synchronousMode() != after.synchronousMode()) loop.synchronous.modeChanged();
  }

  /**
   * §1.5: the session timeout follows ttl (two ticks below it, {@link SessionTimeouts#requestMs}); a new one takes a new
   * session, which keeps our keys (no leader change).
   */
  private void renewSession(DynamicConfig after) {
    int ttlSeconds = after.ttlSeconds();
    loop.dcs.renewSession(SessionTimeouts.requestMs(after, loop.options.zookeeperTickMs()))
        .whenComplete((v, e) -> {
      if (e != null) {
        LOG.warn("keeping the current zookeeper session: renewing it for ttl {} s failed: {}", ttlSeconds,
            Async.message(e));
      }
      loop.runCycle("zookeeper session renewed");
    });
  }

  /**
   * Without the fencing guard, ttl below {@link DynamicConfig#TTL_MIN_WITHOUT_GUARD} is not safe for this member (only
   * its own fence would hold the lease): it keeps the floor for itself and says so once per configuration, as Patroni
   * clamps an out-of-range ttl. Refusing the whole configuration instead would also drop its other changes.
   */
  private DynamicConfig floored(DynamicConfig config) {
    if (loop.fence.guarding()) return config;
    return config.withTtlAtLeast(DynamicConfig.TTL_MIN_WITHOUT_GUARD,
        "the least ttl without the fencing guard (pgha.fencing_guard is off)");
  }

  private static String describeChange(DynamicConfig before, DynamicConfig after) {
    return String.join(", ", io.pgha.config.DynamicConfigJson.changedKeys(before, after));
  }


}
