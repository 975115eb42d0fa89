package io.pgha.config;

import java.util.List;

/**
 * {@code restapi} section. {@code listenHost} is "0.0.0.0" when the YAML says {@code *} or leaves the host empty.
 */
public record RestApiConfig(
    String listenHost,
    int listenPort,
    String connectAddress,
    Credentials authentication,
    String certfile,
    String keyfile,
    String keyfilePassword,
    String cafile,
    String verifyClient,
    List<String> allowlist,
    boolean allowlistIncludeMembers) {

  /** {@code http[s]://<connect_address>/patroni}, what peers and patronictl GET. */
  public String apiUrl() {
    return (certfile != null ? "https://" : "http://") + connectAddress + "/patroni";
  }
}
