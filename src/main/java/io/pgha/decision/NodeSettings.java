package io.pgha.decision;

/**
 * The local settings of this member that decisions depend on: its name, tags and bootstrap ability.
 *
 * @param hasBootstrapSection the YAML has a {@code bootstrap} section (only such a member may run initdb)
 * @param usePgRewind {@code postgresql.use_pg_rewind} in force (local overrides dynamic)
 */
public record NodeSettings(
    String name,
    boolean nofailover,
    int failoverPriority,
    boolean clonefrom,
    boolean nostream,
    String replicatefrom,
    boolean hasBootstrapSection,
    boolean usePgRewind) {

  public boolean canFailover() {
    return !nofailover && failoverPriority > 0;
  }
}
