package io.pgha.decision;

/**
 * The local settings of this member that decisions depend on: its name, tags and bootstrap ability.
 *
 * @param hasBootstrapSection the YAML has a {@code bootstrap} section (only such a member may run initdb)
 * @param usePgRewind {@code postgresql.use_pg_rewind} in force (local overrides dynamic)
 * @param removeDataOnRewindFailure {@code postgresql.remove_data_directory_on_rewind_failure}
 * @param removeDataOnDivergedTimelines {@code postgresql.remove_data_directory_on_diverged_timelines}
 */
public record NodeSettings(
    String name,
    boolean nofailover,
    int failoverPriority,
    boolean clonefrom,
    boolean nostream,
    String replicatefrom,
    boolean hasBootstrapSection,
    boolean usePgRewind,
    boolean removeDataOnRewindFailure,
    boolean removeDataOnDivergedTimelines) {

  /** Neither remove_data_directory_* flag set (Patroni's defaults). */
  public NodeSettings(String name, boolean nofailover, int failoverPriority, boolean clonefrom, boolean nostream,
      String replicatefrom, boolean hasBootstrapSection, boolean usePgRewind) {
    this(name, nofailover, failoverPriority, clonefrom, nostream, replicatefrom, hasBootstrapSection, usePgRewind,
        false, false);
  }

  public boolean canFailover() {
    return !nofailover && failoverPriority > 0;
  }
}
