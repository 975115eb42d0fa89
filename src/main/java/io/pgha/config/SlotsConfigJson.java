package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@link SlotsConfig} from a {@code config} tree as Patroni does: {@code slots} (or {@code permanent_slots},
 * {@code permanent_replication_slots}), {@code ignore_slots}, {@code member_slots_ttl} (seconds, or a number with
 * a unit: ms, s, min, h, d). A bad entry is left out with an error line; the rest still applies.
 */
public final class SlotsConfigJson {
  private static final Pattern SLOT_NAME = Pattern.compile("^[a-z0-9_]{1,63}$");
  private static final Pattern DURATION = Pattern.compile("^\\s*(\\d+)\\s*(ms|s|min|h|d)?\\s*$");

  private SlotsConfigJson() {}

  public static SlotsConfig parse(DynamicConfig config) {
    return config == null ? SlotsConfig.DEFAULT : parse(DynamicConfigJson.tree(config));
  }

  public static SlotsConfig parse(JsonNode tree) {
    List<String> errors = new ArrayList<>();
    JsonNode slots = tree.path("slots");
    if (slots.isMissingNode() || slots.isNull()) slots = tree.path("permanent_slots");
    if (slots.isMissingNode() || slots.isNull()) slots = tree.path("permanent_replication_slots");
    Map<String, SlotsConfig.Permanent> permanent = new LinkedHashMap<>();
    if (slots.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = slots.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        SlotsConfig.Permanent p = permanent(e.getKey(), e.getValue(), errors);
        if (p != null) permanent.put(e.getKey(), p);
      }
    } else if (!slots.isMissingNode() && !slots.isNull()) {
      errors.add("slots: not an object, ignored");
    }
    List<SlotsConfig.Matcher> ignore = new ArrayList<>();
    JsonNode ignoreSlots = tree.path("ignore_slots");
    if (ignoreSlots.isArray()) {
      for (JsonNode m : ignoreSlots) {
        if (m.isObject()) {
          ignore.add(new SlotsConfig.Matcher(text(m, "name"), text(m, "type"), text(m, "database"), text(m, "plugin")));
        } else {
          errors.add("ignore_slots: entry " + m + " is not an object, ignored");
        }
      }
    } else if (!ignoreSlots.isMissingNode() && !ignoreSlots.isNull()) {
      errors.add("ignore_slots: not a list, ignored");
    }
    long ttl = SlotsConfig.MEMBER_SLOTS_TTL_DEFAULT_MS;
    JsonNode ttlNode = tree.path("member_slots_ttl");
    if (!ttlNode.isMissingNode() && !ttlNode.isNull()) {
      Long parsed = durationMs(ttlNode.asText());
      if (parsed == null) errors.add("member_slots_ttl: '" + ttlNode.asText() + "' is not a duration, 30min used");
      else ttl = parsed;
    }
    return new SlotsConfig(permanent, ignore, ttl, errors);
  }

  private static SlotsConfig.Permanent permanent(String name, JsonNode value, List<String> errors) {
    if (!SLOT_NAME.matcher(name).matches()) {
      errors.add("slots: invalid permanent replication slot name '" + name
          + "' (only lower case letters, digits and _ , at most 63)");
      return null;
    }
    if (value == null || value.isNull() || value.isObject() && value.isEmpty()) {
      return new SlotsConfig.Permanent("physical", null, null);
    }
    if (!value.isObject()) {
      errors.add("slots: bad value for slot '" + name + "': " + value);
      return null;
    }
    String database = text(value, "database");
    String plugin = text(value, "plugin");
    String type = text(value, "type");
    if (type == null) type = database != null && plugin != null ? "logical" : "physical";
    if ("physical".equals(type)) return new SlotsConfig.Permanent("physical", null, null);
    if ("logical".equals(type) && database != null && plugin != null) {
      return new SlotsConfig.Permanent("logical", database, plugin);
    }
    errors.add("slots: bad value for slot '" + name + "': " + value
        + " (type physical, or type logical with database and plugin)");
    return null;
  }

  /** A duration in milliseconds: seconds, or a number with ms, s, min, h or d; null when not one. */
  static Long durationMs(String text) {
    Matcher m = DURATION.matcher(text.toLowerCase(Locale.ROOT));
    if (!m.matches()) return null;
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> n;
      case "min" -> n * 60_000;
      case "h" -> n * 3_600_000;
      case "d" -> n * 86_400_000;
      default -> n * 1000;
    };
  }

  private static String text(JsonNode node, String key) {
    JsonNode v = node.get(key);
    return v == null || v.isNull() || v.asText().isEmpty() ? null : v.asText();
  }
}
