package io.pgha.decision;

import java.util.List;

/**
 * The outcome of one {@link HaCore#decide} call: one action for postgres or the leader key, the reason with its
 * operator-facing message, and the housekeeping a leader owes the cluster this cycle.
 */
public record Decision(Action action, Reason reason, String message, List<LeaderDuty> duties) {

  public static Decision of(Action action, Reason reason, Object... args) {
    return new Decision(action, reason, reason.format(args), List.of());
  }

  public Decision withDuties(List<LeaderDuty> more) {
    return new Decision(action, reason, message, List.copyOf(more));
  }

  /**
   * Keys and slots the leader keeps in order (patroni-compat §3.3 step 4, §3.6.3, §10.4); a following replica keeps
   * the slots of the members that cascade from it ({@link SyncSlots} only).
   */
  public sealed interface LeaderDuty {
    record WriteInitialize(String sysid) implements LeaderDuty {}

    record WriteConfig() implements LeaderDuty {}

    record WriteHistory() implements LeaderDuty {}

    record SyncSlots() implements LeaderDuty {}

    /** §10.2: the {@code failsafe} key, member name to api_url. */
    record WriteFailsafe(java.util.Map<String, String> topology) implements LeaderDuty {}
  }
}
