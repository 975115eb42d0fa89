package io.pgha.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.model.NodeStatus;
import io.pgha.model.NodeStatus.ReplicationRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The reference capture (Patroni 3.0.2: postgresql2 leader, postgresql0 replica) as {@link NodeStatus} snapshots,
 * with the values {@code rest/{leader,replica}/GET_metrics.body} was written from.
 */
final class Fixtures {
  static final long LSN = 67909176L;
  static final long DCS_LAST_SEEN = 1795482800L; // as in GET_metrics.body, written 2 s after GET_patroni.body
  static final Path REFERENCE = Path.of("/work/shared/reference/patroni-3.0.2/rest");

  private Fixtures() {}

  static NodeStatus leader() {
    return new NodeStatus("postgresql2", "batman", "3.0.2", "running", "primary",
        "2026-11-24 01:12:17.073690+00:00", 150018, true,
        LSN, null, null, null, null, 6, null,
        List.of(new ReplicationRow("replicator", "postgresql1", "127.0.0.1", "streaming", "async", 0),
            new ReplicationRow("replicator", "postgresql0", "127.0.0.1", "streaming", "async", 0)),
        true, true, false, false, DCS_LAST_SEEN, "7711537902423831623", LSN, false,
        1_795_482_810_000L, 30, new ObjectMapper().createObjectNode(), false, 1048576L);
  }

  static NodeStatus replica() {
    return new NodeStatus("postgresql0", "batman", "3.0.2", "running", "replica",
        "2026-11-24 01:12:44.085903+00:00", 150018, true,
        null, LSN, LSN, "2026-11-24 01:13:19.609041+00:00", false, 6, null,
        List.of(),
        false, true, false, false, DCS_LAST_SEEN, "7711537902423831623", LSN, false,
        1_795_482_810_000L, 30, new ObjectMapper().createObjectNode(), false, 1048576L);
  }

  static String reference(String role) {
    try {
      return Files.readString(REFERENCE.resolve(role).resolve("GET_metrics.body"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ObjectNode tags(String json) {
    try {
      return (ObjectNode) new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A copy of {@code s} with the components named in {@code nameValuePairs} replaced. */
  static NodeStatus with(NodeStatus s, Object... nameValuePairs) {
    try {
      RecordComponent[] components = NodeStatus.class.getRecordComponents();
      Object[] values = new Object[components.length];
      for (int i = 0; i < components.length; i++) {
        values[i] = components[i].getAccessor().invoke(s);
      }
      for (int i = 0; i < nameValuePairs.length; i += 2) {
        values[indexOf(components, (String) nameValuePairs[i])] = nameValuePairs[i + 1];
      }
      Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
      Constructor<NodeStatus> canonical = NodeStatus.class.getDeclaredConstructor(types);
      return canonical.newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int indexOf(RecordComponent[] components, String name) {
    for (int i = 0; i < components.length; i++) {
      if (components[i].getName().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("NodeStatus has no component " + name);
  }

  /** Gives every kind of pgha meter data, so that a scrape shows each series. */
  static void exerciseEveryMeter(io.pgha.metrics.PghaMetrics metrics) {
    metrics.haCycle(java.time.Duration.ofMillis(7));
    metrics.decision("LEADER_WITH_LOCK");
    metrics.zookeeperConnected(true);
    metrics.zookeeperReconnect();
    metrics.zookeeperRequest(java.time.Duration.ofMillis(2));
    metrics.leaderChanged(System.currentTimeMillis() - 5000);
    metrics.failover(java.time.Duration.ofMillis(900));
    metrics.switchover(java.time.Duration.ofMillis(700));
    metrics.membersClaimingPrimary(1);
    metrics.dynamicConfigApplied();
    metrics.fencingGuardFired(1);
  }
}
