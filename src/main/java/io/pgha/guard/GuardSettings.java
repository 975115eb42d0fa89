package io.pgha.guard;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.config.ConfigException;
import io.pgha.config.PghaConfig;
import io.pgha.config.Values;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The fencing guard's settings: pgha's own {@code pgha.fencing_guard} (env {@code PGHA_FENCING_GUARD}, on by
 * default) and {@code pgha.runtime_dir}, and Patroni's {@code watchdog} section, which keeps Patroni's meaning for a
 * device. {@code watchdog.mode: off} does not turn the guard off: container users set it because they have no
 * device, and the guard is what protects them.
 *
 * @param runtimeDir where the guard script, its log and its marker live (outside the data directory, which a
 *     rewind or a reinit wipes)
 */
public record GuardSettings(boolean enabled, Path runtimeDir, WatchdogMode watchdogMode, Path watchdogDevice,
    int safetyMarginSeconds) {

  public static final String ENV = "PGHA_FENCING_GUARD";

  public enum WatchdogMode { OFF, AUTOMATIC, REQUIRED }

  public static GuardSettings from(PghaConfig config, Map<String, String> env) throws ConfigException {
    JsonNode pgha = config.raw().path("pgha");
    boolean enabled = Values.bool(pgha.get("fencing_guard"), true);
    String fromEnv = env.get(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      Boolean parsed = Values.parseBool(fromEnv);
      if (parsed == null) throw new ConfigException(ENV + " must be true or false, not '" + fromEnv + "'");
      enabled = parsed;
    }
    int ttl = io.pgha.config.DynamicConfigJson.parse(config.bootstrap().dcs()).ttlSeconds();
    if (!enabled && ttl < io.pgha.config.DynamicConfig.TTL_MIN_WITHOUT_GUARD) {
      throw new ConfigException("bootstrap.dcs.ttl: " + ttl + " is safe only with the fencing guard, which"
          + " pgha.fencing_guard / " + ENV + " switches off: turn it on, or set ttl to at least "
          + io.pgha.config.DynamicConfig.TTL_MIN_WITHOUT_GUARD);
    }
    Path runtimeDir;
    JsonNode dir = pgha.get("runtime_dir");
    if (dir != null && !dir.isNull() && !dir.asText().isBlank()) {
      runtimeDir = Path.of(dir.asText());
    } else {
      Path data = config.postgresql().dataDir().toAbsolutePath().normalize();
      Path parent = data.getParent();
      runtimeDir = parent != null && Files.isWritable(parent) ? data.resolveSibling(data.getFileName() + ".pgha")
          : Path.of(System.getProperty("java.io.tmpdir"), "pgha-" + config.scope() + "-" + config.name());
    }
    JsonNode watchdog = config.raw().path("watchdog");
    WatchdogMode mode = watchdogMode(watchdog.get("mode"));
    Path device = Path.of(watchdog.path("device").asText("/dev/watchdog"));
    Long margin = Values.integer(watchdog.get("safety_margin"));
    return new GuardSettings(enabled, runtimeDir, mode, device, margin == null ? 5 : margin.intValue());
  }

  /** Patroni: {@code off} (also {@code disable(d)}, false), {@code automatic} (the default), {@code required}. */
  static WatchdogMode watchdogMode(JsonNode node) throws ConfigException {
    if (node == null || node.isNull() || node.isMissingNode()) return WatchdogMode.AUTOMATIC;
    if (node.isBoolean()) return node.booleanValue() ? WatchdogMode.AUTOMATIC : WatchdogMode.OFF;
    String text = node.asText().trim().toLowerCase(Locale.ROOT);
    return switch (text) {
      case "off", "disable", "disabled", "false", "no" -> WatchdogMode.OFF;
      case "automatic", "true", "on", "yes" -> WatchdogMode.AUTOMATIC;
      case "required" -> WatchdogMode.REQUIRED;
      default -> throw new ConfigException("watchdog.mode must be off, automatic or required, not '" + text + "'");
    };
  }

  /** Patroni's watchdog timeout: ttl − safety_margin, or ttl / 2 with a margin of −1. */
  public int watchdogTimeoutSeconds(int ttlSeconds) {
    return safetyMarginSeconds == -1 ? ttlSeconds / 2 : ttlSeconds - safetyMarginSeconds;
  }
}
