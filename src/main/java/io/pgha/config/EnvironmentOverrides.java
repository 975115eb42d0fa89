package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code PATRONI_*} environment variables as a configuration tree to deep-merge over the YAML file
 * (patroni-compat §8.4), mirroring Patroni 3.x {@code Config._build_environment_configuration}: only non-empty
 * variables count, and values keep Patroni's types (lists and dicts parsed as YAML, a few booleans and integers).
 */
final class EnvironmentOverrides {
  private static final Logger LOG = LoggerFactory.getLogger(EnvironmentOverrides.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String PREFIX = "PATRONI_";

  private static final List<String> RESTAPI_KEYS = List.of("listen", "connect_address", "certfile", "keyfile",
      "keyfile_password", "cafile", "ciphers", "verify_client", "http_extra_headers", "https_extra_headers",
      "allowlist", "allowlist_include_members", "request_queue_size", "server_tokens");
  private static final List<String> CTL_KEYS = List.of("insecure", "cacert", "certfile", "keyfile",
      "keyfile_password");
  private static final List<String> POSTGRESQL_KEYS = List.of("listen", "connect_address", "proxy_address",
      "config_dir", "data_dir", "pgpass", "bin_dir");
  private static final List<String> LOG_KEYS = List.of("type", "level", "traceback_level", "format", "dateformat",
      "static_fields", "max_queue_size", "dir", "mode", "file_size", "file_num", "loggers");
  private static final List<String> BINARIES = List.of("pg_ctl", "initdb", "pg_controldata", "pg_basebackup",
      "postgres", "pg_isready", "pg_rewind");
  /** Keys a connection entry of {@code postgresql.authentication} may have (Patroni's _AUTH_ALLOWED_PARAMETERS). */
  private static final List<String> AUTH_KEYS = List.of("username", "password", "sslmode", "sslcert", "sslkey",
      "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "sslnegotiation", "gssencmode", "channel_binding");

  /** Suffixes of {@code PATRONI_<DCS>_<SUFFIX>}, Patroni's generic rule for DCS sections (ZOOKEEPER, ETCD, ...). */
  private static final Set<String> DCS_SUFFIXES = Set.of("HOST", "HOSTS", "PORT", "USE_PROXIES", "PROTOCOL", "SRV",
      "SRV_SUFFIX", "URL", "PROXY", "CACERT", "CERT", "KEY", "VERIFY", "TOKEN", "CHECKS", "DC", "CONSISTENCY",
      "REGISTER_SERVICE", "SERVICE_CHECK_INTERVAL", "SERVICE_CHECK_TLS_SERVER_NAME", "SERVICE_TAGS", "NAMESPACE",
      "CONTEXT", "USE_ENDPOINTS", "SCOPE_LABEL", "ROLE_LABEL", "POD_IP", "PORTS", "LABELS", "BYPASS_API_SERVICE",
      "RETRIABLE_HTTP_CODES", "KEY_PASSWORD", "USE_SSL", "SET_ACLS", "AUTH_DATA", "GROUP", "DATABASE",
      "LEADER_LABEL_VALUE", "FOLLOWER_LABEL_VALUE", "STANDBY_LEADER_LABEL_VALUE", "TMP_ROLE_LABEL");
  private static final Set<String> DCS_LIST_SUFFIXES = Set.of("HOSTS", "PORTS", "CHECKS", "SERVICE_TAGS",
      "RETRIABLE_HTTP_CODES");
  private static final Set<String> DCS_DICT_SUFFIXES = Set.of("LABELS", "SET_ACLS", "AUTH_DATA");
  // USE_SSL is deliberately absent: Patroni keeps it a string (so even "false" is truthy there)
  private static final Set<String> DCS_BOOL_SUFFIXES = Set.of("USE_PROXIES", "REGISTER_SERVICE", "USE_ENDPOINTS",
      "BYPASS_API_SERVICE", "VERIFY");

  private final Map<String, String> env;
  private final ObjectNode tree = NODES.objectNode();

  private EnvironmentOverrides(Map<String, String> env) {
    this.env = env;
  }

  static ObjectNode from(Map<String, String> env) {
    EnvironmentOverrides overrides = new EnvironmentOverrides(env == null ? Map.of() : env);
    overrides.build();
    return overrides.tree;
  }

  private void build() {
    for (String key : List.of("name", "namespace", "scope")) {
      String value = variable(key);
      if (value != null) tree.put(key, value);
    }

    copySection("restapi", RESTAPI_KEYS);
    copySection("ctl", CTL_KEYS);
    copySection("postgresql", POSTGRESQL_KEYS);
    copySection("log", LOG_KEYS);
    // legacy names, used only when the new one is not set
    legacyLog("level", "LOGLEVEL");
    legacyLog("format", "LOGFORMAT");
    legacyLog("dateformat", "LOG_DATEFMT");

    for (String binary : BINARIES) {
      String value = variable("postgresql_bin_" + binary);
      if (value != null) section("postgresql").withObjectProperty("bin_name").put(binary, value);
    }

    retype("restapi", "allowlist_include_members", Kind.BOOL);
    retype("ctl", "insecure", Kind.BOOL);
    retype("restapi", "request_queue_size", Kind.INT);
    for (String key : List.of("max_queue_size", "file_size", "file_num", "mode")) retype("log", key, Kind.INT);
    retype("restapi", "allowlist", Kind.LIST);
    for (String key : List.of("http_extra_headers", "https_extra_headers")) retype("restapi", key, Kind.DICT);
    for (String key : List.of("loggers", "static_fields")) retype("log", key, Kind.DICT);

    ObjectNode restapiAuth = credentials("restapi", List.of("username", "password"));
    if (!restapiAuth.isEmpty()) section("restapi").set("authentication", restapiAuth);
    ObjectNode ctlAuth = credentials("ctl", List.of("username", "password"));
    if (!ctlAuth.isEmpty()) section("ctl").set("authentication", ctlAuth);
    for (String userType : List.of("replication", "superuser", "rewind")) {
      ObjectNode entry = credentials(userType, AUTH_KEYS);
      if (!entry.isEmpty()) section("postgresql").withObjectProperty("authentication").set(userType, entry);
    }

    dcsSections();
  }

  /** PATRONI_&lt;SECTION&gt;_&lt;SUFFIX&gt; with a known suffix becomes {@code <section>.<suffix>}, lower-cased. */
  private void dcsSections() {
    // sorted so that the result does not depend on the map's iteration order
    for (Map.Entry<String, String> variable : new TreeMap<>(env).entrySet()) {
      String name = variable.getKey();
      if (!name.startsWith(PREFIX)) continue;
      String rest = name.substring(PREFIX.length());
      int underscore = rest.indexOf('_');
      if (underscore <= 0) continue;
      String section = rest.substring(0, underscore);
      String suffix = rest.substring(underscore + 1);
      if (!DCS_SUFFIXES.contains(suffix)) continue;
      String raw = variable.getValue();
      JsonNode value;
      if (section.equals("CITUS")) {
        if (suffix.equals("GROUP")) value = toInt(name, raw);
        else if (suffix.equals("DATABASE")) value = NODES.textNode(raw);
        else continue;
      } else if (raw == null || raw.isEmpty()) {
        continue;
      } else if (suffix.equals("PORT")) {
        value = toInt(name, raw);
      } else if (DCS_LIST_SUFFIXES.contains(suffix)) {
        value = parseList(name, raw);
      } else if (DCS_DICT_SUFFIXES.contains(suffix)) {
        value = parseDict(name, raw);
      } else if (DCS_BOOL_SUFFIXES.contains(suffix)) {
        Boolean parsed = Values.parseBool(raw);
        value = parsed == null ? null : NODES.booleanNode(parsed);
      } else {
        value = NODES.textNode(raw);
      }
      if (value != null) section(section.toLowerCase(Locale.ROOT)).set(suffix.toLowerCase(Locale.ROOT), value);
    }
  }

  private enum Kind { BOOL, INT, LIST, DICT }

  /** Replaces a text value copied from the environment by its typed form; an unparsable one is dropped. */
  private void retype(String sectionName, String key, Kind kind) {
    JsonNode section = tree.get(sectionName);
    if (section == null || !section.has(key)) return;
    String raw = section.get(key).asText();
    String variable = PREFIX + sectionName.toUpperCase(Locale.ROOT) + "_" + key.toUpperCase(Locale.ROOT);
    JsonNode typed = switch (kind) {
      case BOOL -> {
        Boolean parsed = Values.parseBool(raw);
        yield parsed == null ? null : NODES.booleanNode(parsed);
      }
      case INT -> toInt(variable, raw);
      case LIST -> parseList(variable, raw);
      case DICT -> parseDict(variable, raw);
    };
    ObjectNode target = (ObjectNode) section;
    if (typed == null) target.remove(key);
    else target.set(key, typed);
  }

  private void copySection(String section, List<String> keys) {
    for (String key : keys) {
      String value = variable(section + "_" + key);
      if (value != null) section(section).put(key, value);
    }
  }

  private void legacyLog(String key, String legacyName) {
    String value = variable(legacyName);
    if (value != null && !section("log").has(key)) section("log").put(key, value);
  }

  private ObjectNode credentials(String prefix, List<String> keys) {
    ObjectNode entry = NODES.objectNode();
    for (String key : keys) {
      String value = variable(prefix + "_" + key);
      if (value != null) entry.put(key, value);
    }
    return entry;
  }

  private ObjectNode section(String name) {
    return tree.withObjectProperty(name);
  }

  /** The variable {@code PATRONI_<NAME>} when set and non-empty (Patroni ignores empty ones). */
  private String variable(String name) {
    String value = env.get(PREFIX + name.toUpperCase(Locale.ROOT));
    return value == null || value.isEmpty() ? null : value;
  }

  private static JsonNode toInt(String variable, String raw) {
    Long parsed = raw == null ? null : Values.integer(NODES.textNode(raw));
    if (parsed == null) LOG.warn("{}: ignoring '{}': not a number", variable, raw);
    return parsed == null ? null : NODES.numberNode(parsed);
  }

  /** Patroni's _parse_list: YAML list text, the brackets optional ({@code 'zk1:2181','zk2:2181'}). */
  static JsonNode parseList(String variable, String raw) {
    String text = raw.strip().startsWith("-") || raw.contains("[") ? raw : "[" + raw + "]";
    try {
      JsonNode parsed = PatroniYaml.parse(text);
      if (parsed.isArray()) return parsed;
    } catch (PatroniYaml.InvalidYaml e) {
      LOG.warn("{}: not a YAML list ({}), using it as comma-separated text", variable, e.reason);
    }
    // a comma-separated string is accepted by every list-valued DCS key, so fall back to the text as written
    return NODES.textNode(raw);
  }

  /** Patroni's _parse_dict: YAML mapping text, the braces optional. */
  private static JsonNode parseDict(String variable, String raw) {
    String text = raw.strip().startsWith("{") ? raw : "{" + raw + "}";
    try {
      JsonNode parsed = PatroniYaml.parse(text);
      if (parsed.isObject()) return parsed;
      LOG.warn("{}: ignoring '{}': not a YAML mapping", variable, raw);
    } catch (PatroniYaml.InvalidYaml e) {
      LOG.warn("{}: ignoring '{}': not a YAML mapping ({})", variable, raw, e.reason);
    }
    return null;
  }
}
