package io.pgha.config;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code tags} section of the local configuration, validated (part of {@link ConfigLoader}). */
final class TagsSection {
  // the loader's logger, so that log lines are named as before the split
  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** Tags that are booleans defaulting to false; Patroni publishes them only when true. */
  private static final Set<String> BOOLEAN_TAGS = Set.of("nofailover", "noloadbalance", "clonefrom", "nosync",
      "nostream");

  private TagsSection() {}

  static Tags tags(ConfigNode tagsNode) throws ConfigException {
    ObjectNode published = NODES.objectNode();
    boolean nofailover = false;
    Boolean nofailoverSet = null;
    Boolean nosyncSet = null;
    Integer failoverPriority = null;
    Integer syncPriority = null;
    boolean noloadbalance = false;
    boolean clonefrom = false;
    boolean nosync = false;
    boolean nostream = false;
    String replicatefrom = null;

    if (tagsNode.isSet()) {
      Iterator<String> names = tagsNode.json().fieldNames();
      while (names.hasNext()) {
        String name = names.next();
        ConfigNode tag = tagsNode.get(name);
        if (BOOLEAN_TAGS.contains(name)) {
          Boolean value = tag.optionalBool();
          boolean enabled = value != null && value;
          switch (name) {
            case "nofailover" -> { nofailover = enabled; nofailoverSet = value; }
            case "noloadbalance" -> noloadbalance = enabled;
            case "clonefrom" -> clonefrom = enabled;
            case "nosync" -> { nosync = enabled; nosyncSet = value; }
            case "nostream" -> nostream = enabled;
            default -> throw new IllegalStateException(name);
          }
          if (value != null) published.put(name, enabled);
        } else if (name.equals("failover_priority") || name.equals("sync_priority")) {
          Integer priority = priority(tag);
          if (name.equals("failover_priority")) failoverPriority = priority;
          else syncPriority = priority;
          if (priority != null) published.put(name, priority);
        } else if (name.equals("replicatefrom")) {
          replicatefrom = tag.text();
          if (replicatefrom != null && !replicatefrom.isBlank()) published.put(name, replicatefrom.trim());
          else replicatefrom = null;
        } else if (tag.isSet()) {
          published.set(name, tag.json().deepCopy());
        }
      }
    }

    checkNotContradictory(tagsNode, "nofailover", nofailoverSet, "failover_priority", failoverPriority);
    checkNotContradictory(tagsNode, "nosync", nosyncSet, "sync_priority", syncPriority);
    // false booleans are not published, except that Patroni keeps a false nofailover/nosync next to its priority
    // tag so that readers see both were considered
    for (String name : BOOLEAN_TAGS) {
      boolean keptWithPriority = name.equals("nofailover") && failoverPriority != null
          || name.equals("nosync") && syncPriority != null;
      if (published.path(name).isBoolean() && !published.get(name).booleanValue() && !keptWithPriority) {
        published.remove(name);
      }
    }
    return new Tags(nofailover, failoverPriority, noloadbalance, clonefrom, nosync, nostream,
        replicatefrom == null ? null : replicatefrom.trim(), published);
  }

  private static Integer priority(ConfigNode tag) throws ConfigException {
    if (!tag.isSet()) return null;
    long value = tag.longOr(1);
    if (value < 0) throw tag.error("must be 0 or more, got " + value);
    return (int) Math.min(value, Integer.MAX_VALUE);
  }

  /**
   * {@code nofailover} and {@code failover_priority} (likewise {@code nosync} and {@code sync_priority}) say the
   * same thing twice; when they disagree Patroni quietly lets the boolean win, which hides a likely mistake.
   */
  private static void checkNotContradictory(ConfigNode tags, String flagName, Boolean flag, String priorityName,
      Integer priority) throws ConfigException {
    if (flag == null || priority == null) return;
    if (flag && priority > 0 || !flag && priority == 0) {
      throw tags.error(flagName + ": " + flag + " contradicts " + priorityName + ": " + priority
          + " (" + priorityName + " 0 means " + flagName + "); set only one of them");
    }
  }
}
