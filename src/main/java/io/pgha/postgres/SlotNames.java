package io.pgha.postgres;

import io.pgha.decision.SlotPlan;

/** Replication slot name of a member (patroni-compat §10.4). */
public final class SlotNames {
  private SlotNames() {}

  public static String forMember(String member) {
    return SlotPlan.slotName(member);
  }
}
