package io.pgha.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.model.NodeStatus;
import io.pgha.model.NodeStatus.ReplicationRow;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;

/** Snapshots of the reference cluster (Patroni 3.0.2 capture: postgresql2 leader, postgresql0 replica). */
final class Statuses {
  static final long LSN = 67909176L;
  static final long NOW_MS = 1_795_482_800_000L;

  private Statuses() {}

  /** As {@code rest/leader/GET_patroni.body}, with 4.x role names. */
  static NodeStatus leader() {
    return new NodeStatus("postgresql2", "batman", "3.0.2", "running", "primary",
        "2026-11-24 01:12:17.073690+00:00", 150018, true,
        LSN, null, null, null, null, 6, null,
        List.of(new ReplicationRow("replicator", "postgresql1", "127.0.0.1", "streaming", "async", 0),
            new ReplicationRow("replicator", "postgresql0", "127.0.0.1", "streaming", "async", 0)),
        true, true, false, false, 1795482798L, "7711537902423831623", LSN, false,
        NOW_MS + 10_000, 30, new ObjectMapper().createObjectNode(), false, 1048576L);
  }

  /** As {@code rest/replica/GET_patroni.body}. */
  static NodeStatus replica() {
    return new NodeStatus("postgresql0", "batman", "3.0.2", "running", "replica",
        "2026-11-24 01:12:44.085903+00:00", 150018, true,
        null, LSN, LSN, "2026-11-24 01:13:19.609041+00:00", false, 6, null,
        List.of(),
        false, true, false, false, 1795482798L, "7711537902423831623", LSN, false,
        NOW_MS + 10_000, 30, new ObjectMapper().createObjectNode(), false, 1048576L);
  }

  static ObjectNode tags(String json) {
    try {
      return (ObjectNode) new ObjectMapper().readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException(json, e);
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
        String name = (String) nameValuePairs[i];
        int index = indexOf(components, name);
        values[index] = nameValuePairs[i + 1];
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
}
