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
}
