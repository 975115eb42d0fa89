package io.pgha.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The slot keys of the dynamic configuration (patroni-compat §10.4): {@code slots} (alias {@code permanent_slots},
 * {@code permanent_replication_slots}), {@code ignore_slots} and {@code member_slots_ttl}. Parsed by
 * {@link SlotsConfigJson}; bad entries are left out and named in {@link #errors()}.
 *
 * @param permanent valid permanent slots by name, sorted
 * @param memberSlotsTtlMs how long the leader keeps the slot of a member whose key is gone; 0: drop at once, and
 *     replicas keep only the slots of members cascading from them (Patroni before 4.0)
 */
public record SlotsConfig(Map<String, Permanent> permanent, List<Matcher> ignore, long memberSlotsTtlMs,
    List<String> errors) {

  /** Patroni 4.0's default {@code member_slots_ttl}: 30 minutes. */
  public static final long MEMBER_SLOTS_TTL_DEFAULT_MS = 30 * 60_000L;
  public static final SlotsConfig DEFAULT = new SlotsConfig(Map.of(), List.of(), MEMBER_SLOTS_TTL_DEFAULT_MS, List.of());

  public SlotsConfig {
    permanent = java.util.Collections.unmodifiableMap(new TreeMap<>(permanent));
    ignore = List.copyOf(ignore);
    errors = List.copyOf(errors);
  }

  /** A permanent slot: {@code physical}, or {@code logical} with its database and output plugin. */
  public record Permanent(String type, String database, String plugin) {
    public boolean logical() {
      return "logical".equals(type);
    }
  }

  /** An {@code ignore_slots} entry: every attribute given must equal the slot's; a null attribute matches any. */
  public record Matcher(String name, String type, String database, String plugin) {
    public boolean matches(String slotName, String slotType, String slotDatabase, String slotPlugin) {
      return (name == null || name.equals(slotName)) && (type == null || type.equals(slotType))
          && (database == null || database.equals(slotDatabase)) && (plugin == null || plugin.equals(slotPlugin));
    }
  }

  /** Whether an {@code ignore_slots} entry matches this slot: pgha leaves it alone. */
  public boolean ignored(String slotName, String slotType, String slotDatabase, String slotPlugin) {
    return ignore.stream().anyMatch(m -> m.matches(slotName, slotType, slotDatabase, slotPlugin));
  }

  public boolean hasPermanent(String name, String type) {
    Permanent p = permanent.get(name);
    return p != null && Objects.equals(p.type(), type);
  }
}
