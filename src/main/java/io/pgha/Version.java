package io.pgha;

/** Versions pgha reports. */
public final class Version {
  private Version() {}

  /** pgha's own version. */
  public static final String PGHA = "0.1.0";

  /**
   * The agent version published in member keys and {@code /patroni}: Patroni peers and patronictl parse it, and a
   * value below 4.0.0 would switch them to 3.x compatibility behaviour (patroni-compat §2).
   */
  public static final String PATRONI_COMPATIBLE = "4.0.0";

  /**
   * This process's own id, sent by its REST API as {@link #INSTANCE_HEADER}: the duplicate-name check at start-up
   * probes the api_url of a member key left by an earlier run of this member, which is also our own URL; an answer
   * carrying our id is our own API (deployed beside the HA loop), not a second agent.
   */
  public static final String INSTANCE = java.util.UUID.randomUUID().toString();

  public static final String INSTANCE_HEADER = "X-Pgha-Instance";
}
