package io.pgha.dcs;

/** Patroni's znode paths under {@code /<namespace>/<scope>} (patroni-compat §1.1). */
public record ZkLayout(String base) {
  public String leader() { return base + "/leader"; }
  public String members() { return base + "/members"; }
  public String member(String name) { return base + "/members/" + name; }
  public String config() { return base + "/config"; }
  public String initialize() { return base + "/initialize"; }
  public String history() { return base + "/history"; }
  public String status() { return base + "/status"; }
  public String failover() { return base + "/failover"; }
  public String sync() { return base + "/sync"; }
  public String failsafe() { return base + "/failsafe"; }
  /** Patroni < 2.1 kept the leader's optime here, before {@code status}. */
  public String legacyOptime() { return base + "/optime/leader"; }
}
