package io.pgha.config;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A username and password ({@code postgresql.authentication.*}, {@code restapi.authentication}), with the libpq
 * connection keys Patroni passes on for the PostgreSQL users ({@code sslmode}, {@code sslcert}...).
 *
 * @param libpq the set keys of {@link #LIBPQ_KEYS} and their values, in name order; empty when none
 */
public record Credentials(String username, String password, Map<String, String> libpq) {
  /** The keys of {@code postgresql.authentication.<user>} besides username and password that Patroni honours. */
  public static final List<String> LIBPQ_KEYS = List.of("sslmode", "sslcert", "sslkey", "sslpassword",
      "sslrootcert", "sslcrl", "sslcrldir", "gssencmode", "channel_binding");

  public Credentials {
    libpq = libpq == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(libpq));
  }

  public Credentials(String username, String password) {
    this(username, password, Map.of());
  }

  /** A libpq key's value, or null when not set. */
  public String option(String key) {
    return libpq.get(key);
  }

  /** The {@code Authorization} header value for these credentials: {@code Basic base64(username:password)}. */
  public String basicAuthorization() {
    return basicAuthorization(username + ":" + (password == null ? "" : password));
  }

  /** The {@code Authorization} header value for {@code user:password} as patronictl's {@code ctl.auth} has it. */
  public static String basicAuthorization(String userColonPassword) {
    return "Basic " + Base64.getEncoder().encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", password=" + (password == null ? "null" : "***")
        + ", libpq=" + libpq + "]";
  }
}
