package io.pgha.config;

import java.util.List;

/** {@code zookeeper} section: hosts as {@code host:port} strings. */
public record ZooKeeperConfig(List<String> hosts) {
  public String connectString() {
    return String.join(",", hosts);
  }
}
