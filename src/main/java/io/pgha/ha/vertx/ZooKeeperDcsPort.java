package io.pgha.ha.vertx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.dcs.DcsHealth;
import io.pgha.dcs.ZooKeeperDcs;
import io.pgha.decision.ClusterView;
import io.pgha.ha.port.Dcs;
import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

/** The {@link Dcs} port over {@link ZooKeeperDcs}: Patroni's znode paths and the JSON of each key live here. */
final class ZooKeeperDcsPort implements Dcs {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ZooKeeperDcs dcs;
  private final Context ctx;

  ZooKeeperDcsPort(ZooKeeperDcs dcs, Context ctx) {
    this.dcs = dcs;
    this.ctx = ctx;
  }

  @Override public ClusterView view() { return dcs.view(); }

  @Override public DcsHealth health() { return dcs.health(); }

  @Override public long negotiatedSessionTimeoutMs() { return dcs.negotiatedSessionTimeoutMs(); }

  @Override public CompletionStage<Boolean> acquireLeader() { return OnContext.of(ctx, dcs.acquireLeader()); }

  @Override public CompletionStage<Void> releaseLeader() { return OnContext.of(ctx, dcs.releaseLeader()); }

  @Override public CompletionStage<Boolean> confirmLeader() { return OnContext.of(ctx, dcs.confirmLeader()); }

  @Override public CompletionStage<Boolean> raceInitialize() { return OnContext.of(ctx, dcs.raceInitialize()); }

  @Override
  public CompletionStage<Void> writeInitialize(String sysid) {
    return OnContext.of(ctx, dcs.put(dcs.layout().initialize(), sysid));
  }

  @Override
  public CompletionStage<Boolean> createInitialize(String sysid) {
    return OnContext.of(ctx, dcs.createIfAbsent(dcs.layout().initialize(), sysid));
  }

  @Override public CompletionStage<Void> deleteInitialize() { return OnContext.of(ctx, dcs.deleteInitialize()); }

  @Override
  public CompletionStage<Boolean> createConfig(String json) {
    return OnContext.of(ctx, dcs.createIfAbsent(dcs.layout().config(), json));
  }

  @Override
  public CompletionStage<Void> writeStatus(long optime) {
    return OnContext.of(ctx, dcs.put(dcs.layout().status(), statusValue(optime, lastStatusSlots)));
  }

  /** The slot fields last written, carried over by {@link #writeStatus(long)}; touched on the loop's context. */
  private SlotStatus lastStatusSlots = SlotStatus.EMPTY;

  @Override
  public CompletionStage<Void> writeStatus(long optime, Map<String, Long> slots, List<String> retainSlots) {
    SlotStatus written = new SlotStatus(Map.copyOf(slots), List.copyOf(retainSlots));
    return OnContext.of(ctx, dcs.put(dcs.layout().status(), statusValue(optime, written)))
        .thenRun(() -> lastStatusSlots = written);
  }

  /** {@code {"optime":N,"slots":{...},"retain_slots":[...]}}, compact, keys sorted, empty fields left out. */
  static String statusValue(long optime, SlotStatus slots) {
    ObjectNode status = JSON.createObjectNode().put("optime", optime);
    if (!slots.slots().isEmpty()) {
      ObjectNode s = status.putObject("slots");
      new TreeMap<>(slots.slots()).forEach(s::put);
    }
    if (!slots.retainSlots().isEmpty()) {
      ArrayNode r = status.putArray("retain_slots");
      new TreeSet<>(slots.retainSlots()).forEach(r::add);
    }
    return status.toString();
  }

  @Override
  public SlotStatus slotStatus() {
    byte[] value = dcs.cachedData(dcs.layout().status());
    // read every cycle, changed only when the leader publishes new positions: parsed again only then
    ParsedStatus last = lastStatus;
    if (last != null && Arrays.equals(last.value(), value)) return last.parsed();
    SlotStatus parsed = parseSlotStatus(value);
    lastStatus = new ParsedStatus(value == null ? null : value.clone(), parsed);
    return parsed;
  }

  private record ParsedStatus(byte[] value, SlotStatus parsed) {}

  private volatile ParsedStatus lastStatus;

  static SlotStatus parseSlotStatus(byte[] value) {
    if (value == null) return SlotStatus.EMPTY;
    try {
      JsonNode status = JSON.readTree(value);
      if (status == null || !status.isObject()) return SlotStatus.EMPTY;
      Map<String, Long> slots = new TreeMap<>();
      status.path("slots").fields().forEachRemaining(e -> {
        if (e.getValue().canConvertToLong()) slots.put(e.getKey(), e.getValue().asLong());
      });
      JsonNode retain = status.path("retain_slots");
      if (retain.isTextual()) retain = JSON.readTree(retain.asText()); // Patroni accepts it as JSON text
      List<String> retained = new ArrayList<>();
      if (retain != null && retain.isArray()) retain.forEach(n -> retained.add(n.asText()));
      return new SlotStatus(Collections.unmodifiableMap(slots), List.copyOf(retained));
    } catch (IOException e) {
      return SlotStatus.EMPTY;
    }
  }

  @Override
  public CompletionStage<Void> writeFailsafe(Map<String, String> topology) {
    return OnContext.of(ctx, dcs.put(dcs.layout().failsafe(),
        new JsonObject(new TreeMap<String, Object>(topology)).encode()));
  }

  @Override
  public CompletionStage<Void> clearFailover() {
    return OnContext.of(ctx, dcs.put(dcs.layout().failover(), "{}"));
  }

  @Override
  public CompletionStage<Void> writeHistory(List<HistoryEntry> history) {
    List<HistoryEntry> known = keepKnown(history, parseHistory(dcs.cachedData(dcs.layout().history())));
    return OnContext.of(ctx, dcs.put(dcs.layout().history(), historyValue(known)));
  }

  @Override
  public CompletionStage<Boolean> writeSync(String leader, Set<String> standbys, int quorum, int expectedVersion) {
    String value = leader == null ? "{}" : syncValue(leader, standbys, quorum);
    return OnContext.of(ctx, dcs.compareAndSet(dcs.layout().sync(), value, expectedVersion));
  }

  @Override public void publishMember(String json) { dcs.publishMember(json); }

  @Override
  public CompletionStage<Void> renewSession(long sessionTimeoutMs) {
    return OnContext.of(ctx, dcs.renewSession((int) sessionTimeoutMs));
  }

  @Override
  public CompletionStage<String> existingMemberApiUrl(String name) {
    return OnContext.of(ctx, dcs.existingMemberApiUrl(name));
  }

  @Override public void close() { dcs.close(); }

  /**
   * §3.6.3: an entry that {@code history} already holds (same timeline and switch LSN, all five fields) keeps its
   * timestamp and new leader; only entries new to the key take the writer's. Without this, every leader change would
   * stamp the whole history with the newest leader's name and time.
   */
  static List<HistoryEntry> keepKnown(List<HistoryEntry> fresh, List<HistoryEntry> previous) {
    List<HistoryEntry> kept = new ArrayList<>(fresh.size());
    for (HistoryEntry entry : fresh) {
      HistoryEntry known = previous.stream()
          .filter(p -> p.timeline() == entry.timeline() && p.lsn() == entry.lsn()
              && p.timestamp() != null && p.member() != null)
          .findFirst().orElse(null);
      kept.add(known == null ? entry
          : new HistoryEntry(entry.timeline(), entry.lsn(), entry.reason(), known.timestamp(), known.member()));
    }
    return kept;
  }

  /** The entries of a {@code history} value; those with fewer than five fields get null timestamp and member. */
  static List<HistoryEntry> parseHistory(byte[] value) {
    List<HistoryEntry> entries = new ArrayList<>();
    if (value == null) return entries;
    JsonNode array;
    try {
      array = JSON.readTree(value);
    } catch (IOException e) {
      return entries; // not JSON: nothing to keep, the leader rewrites it
    }
    if (array == null || !array.isArray()) return entries;
    for (JsonNode e : array) {
      if (!e.isArray() || e.size() < 2 || !e.get(0).canConvertToInt() || !e.get(1).canConvertToLong()) continue;
      boolean full = e.size() >= 5 && e.get(3).isTextual() && e.get(4).isTextual();
      entries.add(new HistoryEntry(e.get(0).asInt(), e.get(1).asLong(), e.size() > 2 ? e.get(2).asText() : "",
          full ? e.get(3).asText() : null, full ? e.get(4).asText() : null));
    }
    return entries;
  }

  /** §3.6.3: {@code [[timeline, lsn, reason, timestamp, member], ...]}. */
  static String historyValue(List<HistoryEntry> history) {
    ArrayNode array = JSON.createArrayNode();
    for (HistoryEntry h : history) {
      array.addArray().add(h.timeline()).add(h.lsn()).add(h.reason()).add(h.timestamp()).add(h.member());
    }
    return array.toString();
  }

  /** §4.3: {@code {"leader": L, "quorum": N, "sync_standby": "a,b" | null}} (N is 0 unless quorum commit). */
  static String syncValue(String leader, Set<String> standbys, int quorum) {
    ObjectNode value = JSON.createObjectNode().put("leader", leader).put("quorum", quorum);
    if (standbys.isEmpty()) value.putNull("sync_standby");
    else value.put("sync_standby", String.join(",", new TreeSet<>(standbys)));
    return value.toString();
  }
}
