package io.pgha.config;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code tags} section (patroni-compat §9.2).
 *
 * @param published the effective tags as published in the member key and {@code /patroni}: false booleans and
 *     nulls are left out, as Patroni does
 */
public record Tags(
    boolean nofailover,
    Integer failoverPriority,
    boolean noloadbalance,
    boolean clonefrom,
    boolean nosync,
    boolean nostream,
    String replicatefrom,
    ObjectNode published) {

  /** Whether this member may ever become the leader automatically. */
  public boolean canFailover() {
    return !nofailover && (failoverPriority == null || failoverPriority > 0);
  }

  public int effectiveFailoverPriority() {
    if (nofailover) return 0;
    return failoverPriority == null ? 1 : failoverPriority;
  }
}
