package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The types of the dynamic configuration's keys in a {@code PATCH}/{@code PUT /config} body: integers may be
 * numeric strings and booleans any of Patroni's spellings, as its own parsing takes them; another type (a list for
 * {@code ttl}, {@code "maybe"} for {@code pause}) is refused with a 400 before anything is written. Unknown keys pass
 * unchanged, as Patroni keeps them.
 */
final class ConfigBodyCheck {
  private static final Set<String> INTEGERS = Set.of("ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover",
      "maximum_lag_on_syncnode", "primary_start_timeout", "primary_stop_timeout", "master_start_timeout",
      "master_stop_timeout", "synchronous_node_count", "max_timelines_history");
  private static final Set<String> BOOLEANS = Set.of("pause", "synchronous_mode", "synchronous_mode_strict",
      "check_timeline", "failsafe_mode");
  private static final Set<String> OBJECTS = Set.of("postgresql", "standby_cluster", "slots");
  private static final Set<String> POSTGRESQL_BOOLEANS = Set.of("use_pg_rewind", "use_slots");
  private static final Set<String> POSTGRESQL_OBJECTS = Set.of("parameters", "recovery_conf");

  private ConfigBodyCheck() {}

  /** Throws {@link RequestRejected} (400) for the first value of a wrong type; nulls (deletions) pass. */
  static void check(ObjectNode body) {
    for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      JsonNode value = e.getValue();
      if (value.isNull()) continue;
      if (INTEGERS.contains(key)) {
        BodyValues.integer(value, key);
      } else if (BOOLEANS.contains(key)) {
        BodyValues.flag(value, key);
      } else if (OBJECTS.contains(key)) {
        if (!value.isObject()) throw new RequestRejected(400, key + " must be an object, got " + BodyValues.describe(value));
        if (key.equals("postgresql")) checkPostgresql((ObjectNode) value);
      }
    }
  }

  private static void checkPostgresql(ObjectNode pg) {
    for (Iterator<Map.Entry<String, JsonNode>> it = pg.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = "postgresql." + e.getKey();
      JsonNode value = e.getValue();
      if (value.isNull()) continue;
      if (POSTGRESQL_BOOLEANS.contains(e.getKey())) {
        BodyValues.flag(value, key);
      } else if (POSTGRESQL_OBJECTS.contains(e.getKey()) && !value.isObject()) {
        throw new RequestRejected(400, key + " must be an object, got " + BodyValues.describe(value));
      } else if (e.getKey().equals("parameters")) {
        for (Iterator<Map.Entry<String, JsonNode>> p = value.fields(); p.hasNext(); ) {
          Map.Entry<String, JsonNode> param = p.next();
          if (param.getValue().isContainerNode()) {
            throw new RequestRejected(400, key + "." + param.getKey() + " must be a single value, got "
                + BodyValues.describe(param.getValue()));
          }
        }
      } else if (e.getKey().equals("pg_hba") && !(value.isArray() || value.isTextual())) {
        throw new RequestRejected(400, key + " must be a list of lines, got " + BodyValues.describe(value));
      }
    }
  }
}
