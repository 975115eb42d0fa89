package io.pgha.config;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The local configuration of one agent, read from a Patroni-format YAML file plus {@code PATRONI_*}
 * environment overrides (patroni-compat §8.2, §8.4). Immutable; a reload builds a new one.
 *
 * @param raw the merged YAML tree after environment overrides, as Patroni would see it
 */
public record PghaConfig(
    String scope,
    String namespace,
    String name,
    RestApiConfig restapi,
    ZooKeeperConfig zookeeper,
    BootstrapConfig bootstrap,
    PostgresqlConfig postgresql,
    Tags tags,
    ObjectNode raw) {

  /** ZooKeeper base path, {@code /<namespace>/<scope>} with duplicate slashes collapsed. */
  public String basePath() {
    String joined = "/" + namespace + "/" + scope;
    String collapsed = joined.replaceAll("/+", "/");
    return collapsed.endsWith("/") ? collapsed.substring(0, collapsed.length() - 1) : collapsed;
  }
}
