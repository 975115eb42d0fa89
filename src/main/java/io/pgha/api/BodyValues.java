package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.config.Values;

/**
 * The loose value forms Patroni accepts in request bodies (booleans also as {@code "true"}, {@code "True"},
 * {@code "1"}...; integers also as numeric strings), checked before anything is done: a value of another type is a
 * 400 with a one-line reason, so nothing malformed ever reaches the HA loop.
 */
final class BodyValues {
  private BodyValues() {}

  /** A boolean field: null when absent or null; 400 when not a boolean in any of Patroni's spellings. */
  static Boolean flag(JsonNode value, String key) {
    if (value == null || value.isNull() || value.isMissingNode()) return null;
    if (value.isBoolean()) return value.booleanValue();
    if (value.isIntegralNumber() && (value.asLong() == 0 || value.asLong() == 1)) return value.asLong() == 1;
    if (value.isTextual()) {
      Boolean parsed = Values.parseBool(value.textValue());
      if (parsed != null) return parsed;
    }
    throw new RequestRejected(400, key + " must be a boolean (true/false), got " + describe(value));
  }

  /** An integer field given as a number or a numeric string: null when absent or null; 400 otherwise. */
  static Long integer(JsonNode value, String key) {
    if (value == null || value.isNull() || value.isMissingNode()) return null;
    if (value.isNumber() || value.isTextual()) {
      Long parsed = Values.integer(value);
      if (parsed != null) return parsed;
    }
    throw new RequestRejected(400, key + " must be an integer, got " + describe(value));
  }

  /** A short description of a value for an error line (never the whole of a large value). */
  static String describe(JsonNode value) {
    String text = value.toString();
    if (text.length() > 40) text = text.substring(0, 37) + "...";
    String kind = value.isTextual() ? "string" : value.isNumber() ? "number" : value.isBoolean() ? "boolean"
        : value.isArray() ? "array" : value.isObject() ? "object" : value.getNodeType().name().toLowerCase();
    return kind + " " + RequestRejected.oneLine(text);
  }
}
