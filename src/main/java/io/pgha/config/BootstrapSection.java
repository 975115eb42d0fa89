package io.pgha.config;

import static io.pgha.config.ConfigLoader.lines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@code bootstrap} section of the local configuration, validated (part of {@link ConfigLoader}). */
final class BootstrapSection {
  // the loader's logger, so that log lines are named as before the split
  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  /** initdb options Patroni sets itself and refuses from {@code bootstrap.initdb}. */
  private static final Set<String> INITDB_FORBIDDEN = Set.of("pgdata", "nosync", "pwfile", "sync-only", "version");
  // the run-time minima, so that a file is refused exactly when the cluster would have to adjust it
  private static final int MIN_TTL = DynamicConfig.TTL_MIN;
  private static final int MIN_LOOP_WAIT = DynamicConfig.LOOP_WAIT_MIN;
  private static final int MIN_RETRY_TIMEOUT = DynamicConfig.RETRY_TIMEOUT_MIN;

  private BootstrapSection() {}

  static BootstrapConfig bootstrap(ConfigNode root) throws ConfigException {
    ConfigNode bootstrap = root.section("bootstrap");
    ConfigNode dcsNode = bootstrap.section("dcs");
    ObjectNode dcs = dcsNode.objectCopy();
    checkBootstrapTimings(dcsNode);
    // the remaining dynamic keys are parsed leniently at run time; say now what would be adjusted
    for (String warning : DynamicConfigJson.parse(dcs).warnings()) LOG.warn("bootstrap.dcs: {}", warning);

    List<String> initdbArgs = toolOptions(bootstrap.get("initdb"), "initdb", INITDB_FORBIDDEN, true);
    List<String> pgHba = lines(bootstrap.get("pg_hba"));
    String postBootstrap = bootstrap.get("post_bootstrap").text();
    if (postBootstrap == null || postBootstrap.isBlank()) postBootstrap = bootstrap.get("post_init").text();
    if (postBootstrap != null && postBootstrap.isBlank()) postBootstrap = null;
    if (postBootstrap != null) {
      PostgresqlSection.checkCommand(bootstrap.get(bootstrap.get("post_bootstrap").isSet() ? "post_bootstrap" : "post_init"),
          postBootstrap);
    }
    return new BootstrapConfig(dcs, List.copyOf(initdbArgs), List.copyOf(pgHba),
        postBootstrap == null ? null : postBootstrap.trim(), bootstrap.isSet());
  }

  /**
   * The timings the bootstrap winner writes to the {@code config} znode must hold the leader lock safely: each at
   * least its minimum, and {@code loop_wait + 2*retry_timeout <= ttl}. At run time a bad {@code config} is only
   * adjusted ({@link DynamicConfigJson#parse}); the operator's own file is rejected so the mistake is seen.
   */
  private static void checkBootstrapTimings(ConfigNode dcs) throws ConfigException {
    long ttl = atLeast(dcs.get("ttl"), DynamicConfig.TTL_DEFAULT, MIN_TTL);
    long loopWait = atLeast(dcs.get("loop_wait"), DynamicConfig.LOOP_WAIT_DEFAULT, MIN_LOOP_WAIT);
    long retryTimeout = atLeast(dcs.get("retry_timeout"), DynamicConfig.RETRY_TIMEOUT_DEFAULT, MIN_RETRY_TIMEOUT);
    if (loopWait + 2 * retryTimeout > ttl) {
      throw new ConfigException("bootstrap.dcs: loop_wait + 2*retry_timeout must be <= ttl (got loop_wait="
          + loopWait + ", retry_timeout=" + retryTimeout + ", ttl=" + ttl + ")");
    }
  }

  private static long atLeast(ConfigNode node, long fallback, long minimum) throws ConfigException {
    long value = node.longOr(fallback);
    if (value < minimum) throw node.error("must be at least " + minimum + ", got " + value);
    return value;
  }

  /**
   * Patroni's {@code process_user_options}: a list of {@code - flag} / {@code - key: value} items, or a mapping,
   * becomes {@code --flag} / {@code --key=value}. Options Patroni sets itself are refused ({@code refuse}) or
   * dropped with a warning, as Patroni does for initdb and pg_basebackup respectively.
   */
  static List<String> toolOptions(ConfigNode node, String tool, Set<String> forbidden, boolean refuse)
      throws ConfigException {
    List<String> args = new ArrayList<>();
    if (!node.isSet()) return args;
    JsonNode options = node.json();
    if (options.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> fields = options.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> option = fields.next();
        // Patroni skips entries with an empty or false value in the mapping form
        if (option.getKey().isEmpty() || !isTruthy(option.getValue())) continue;
        addOption(args, node, tool, option.getKey(), option.getValue(), forbidden, refuse);
      }
    } else if (options.isArray()) {
      for (JsonNode item : options) {
        if (item.isObject() && item.size() == 1) {
          Map.Entry<String, JsonNode> option = item.fields().next();
          addOption(args, node, tool, option.getKey(), option.getValue(), forbidden, refuse);
        } else if (item.isValueNode() && !item.isNull()) {
          addOption(args, node, tool, item.asText(), null, forbidden, refuse);
        } else {
          throw node.error(
              "each item must be an option name or a single 'name: value', got " + ConfigNode.describe(item));
        }
      }
    } else {
      throw node.error("must be a list of options, got " + node.describe());
    }
    return args;
  }

  private static void addOption(List<String> args, ConfigNode node, String tool, String name, JsonNode value,
      Set<String> forbidden, boolean refuse) throws ConfigException {
    String option = name.trim();
    if (forbidden.contains(option)) {
      if (refuse) throw node.error("option '" + option + "' is not allowed: pgha sets it for " + tool + " itself");
      LOG.warn("{}: ignoring option '{}': pgha sets it for {} itself", node.path(), option, tool);
      return;
    }
    if (value == null) {
      args.add("--" + option);
    } else if (value.isValueNode() && !value.isNull()) {
      args.add("--" + option + "=" + unquote(value.asText()));
    } else {
      throw node.error("option '" + option + "' needs a single value, got " + ConfigNode.describe(value));
    }
  }

  /** Patroni's {@code unquote}: a value written in shell quotes ({@code "'en_US.UTF-8'"}) loses them. */
  private static String unquote(String value) {
    if (value.length() >= 2) {
      char first = value.charAt(0);
      char last = value.charAt(value.length() - 1);
      if ((first == '\'' || first == '"') && first == last && value.indexOf(first, 1) == value.length() - 1) {
        return value.substring(1, value.length() - 1);
      }
    }
    return value;
  }

  private static boolean isTruthy(JsonNode value) {
    if (value == null || value.isNull()) return false;
    if (value.isBoolean()) return value.booleanValue();
    if (value.isNumber()) return value.asDouble() != 0;
    if (value.isContainerNode()) return value.size() > 0;
    return !value.asText().isEmpty();
  }
}
