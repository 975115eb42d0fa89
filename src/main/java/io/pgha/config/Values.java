package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/** Patroni's lenient value forms: booleans as true/on/yes/1 (any case), integers as strings. */
public final class Values {
  private Values() {}

  /** Parses a boolean the way Patroni does; null or unparsable gives {@code fallback}. */
  public static boolean bool(JsonNode node, boolean fallback) {
    if (node == null || node.isNull() || node.isMissingNode()) return fallback;
    if (node.isBoolean()) return node.booleanValue();
    if (node.isNumber()) return node.asLong() != 0;
    Boolean parsed = parseBool(node.asText());
    return parsed == null ? fallback : parsed;
  }

  /** {@code true/on/yes/1} and {@code false/off/no/0}, any case; anything else null. */
  public static Boolean parseBool(String text) {
    if (text == null) return null;
    switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true": case "on": case "yes": case "1": case "y": case "t":
        return Boolean.TRUE;
      case "false": case "off": case "no": case "0": case "n": case "f":
        return Boolean.FALSE;
      default:
        return null;
    }
  }

  /** An integer given as a number or numeric string; null, empty or unparsable gives null. */
  public static Long integer(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) return null;
    if (node.isIntegralNumber()) return node.asLong();
    if (node.isNumber()) return (long) node.asDouble();
    String text = node.asText().trim();
    if (text.isEmpty()) return null;
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      try {
        return (long) Double.parseDouble(text);
      } catch (NumberFormatException e2) {
        return null;
      }
    }
  }

  /** A GUC value as PostgreSQL text: booleans as on/off, numbers as written. */
  public static String gucText(JsonNode node) {
    if (node == null || node.isNull()) return null;
    if (node.isBoolean()) return node.booleanValue() ? "on" : "off";
    return node.asText();
  }
}
