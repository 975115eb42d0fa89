package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A value of the configuration tree together with its dotted key path, so that every typed read can fail with a
 * one-line message naming the key ({@code postgresql.pg_ctl_timeout: must be a number, got 'x'}).
 *
 * <p>An absent key and an explicit YAML null both count as "not set", as they do for Patroni.
 */
final class ConfigNode {
  private final String path;
  private final JsonNode value;

  private ConfigNode(String path, JsonNode value) {
    this.path = path;
    this.value = value;
  }

  static ConfigNode root(JsonNode tree) {
    return new ConfigNode("", tree);
  }

  /** The child {@code key}; not set when this node is not a mapping. */
  ConfigNode get(String key) {
    JsonNode child = value != null && value.isObject() ? value.get(key) : null;
    return new ConfigNode(path.isEmpty() ? key : path + "." + key, child);
  }

  /** The child {@code key}, which must be a mapping when set. */
  ConfigNode section(String key) throws ConfigException {
    ConfigNode child = get(key);
    if (child.isSet() && !child.value.isObject()) throw child.error("must be a mapping, got " + child.describe());
    return child;
  }

  String path() {
    return path;
  }

  boolean isSet() {
    return value != null && !value.isNull() && !value.isMissingNode();
  }

  /** The raw value, or null when not set. */
  JsonNode json() {
    return isSet() ? value : null;
  }

  ConfigException error(String problem) {
    return new ConfigException(path + ": " + problem);
  }

  /** A copy of the mapping (empty when not set). */
  ObjectNode objectCopy() throws ConfigException {
    if (!isSet()) return JsonNodeFactory.instance.objectNode();
    if (!value.isObject()) throw error("must be a mapping, got " + describe());
    return value.deepCopy();
  }

  /** A scalar as text (numbers and booleans as written), or null when not set. */
  String text() throws ConfigException {
    if (!isSet()) return null;
    if (value.isContainerNode()) throw error("must be a single value, got " + describe());
    return value.asText();
  }

  String textOr(String fallback) throws ConfigException {
    String text = text();
    return text == null ? fallback : text;
  }

  /** A scalar that must be set and not blank. */
  String requiredText() throws ConfigException {
    String text = text();
    if (text == null || text.isBlank()) throw error("required");
    return text.trim();
  }

  /** An integer written as a number or a numeric string, or {@code fallback} when not set. */
  long longOr(long fallback) throws ConfigException {
    if (!isSet()) return fallback;
    Long parsed = value.isContainerNode() ? null : Values.integer(value);
    if (parsed == null) throw error("must be a number, got " + describe());
    return parsed;
  }

  /** A boolean in any of Patroni's forms (true/on/yes/1, any case), or {@code fallback} when not set. */
  boolean boolOr(boolean fallback) throws ConfigException {
    Boolean parsed = optionalBool();
    return parsed == null ? fallback : parsed;
  }

  /** A boolean in any of Patroni's forms, or null when not set. */
  Boolean optionalBool() throws ConfigException {
    if (!isSet()) return null;
    if (value.isBoolean()) return value.booleanValue();
    Boolean parsed = value.isIntegralNumber() ? Boolean.valueOf(value.asLong() != 0)
        : value.isTextual() ? Values.parseBool(value.asText()) : null;
    if (parsed == null) throw error("must be true or false, got " + describe());
    return parsed;
  }

  /** A list of scalars as text; a single scalar counts as a one-element list. Empty when not set. */
  List<String> textList() throws ConfigException {
    List<String> items = new ArrayList<>();
    if (!isSet()) return items;
    if (value.isObject()) throw error("must be a list, got " + describe());
    if (!value.isArray()) {
      items.add(value.asText());
      return items;
    }
    for (JsonNode item : value) {
      if (item.isContainerNode()) throw error("list items must be single values, got " + describe(item));
      if (!item.isNull()) items.add(item.asText());
    }
    return items;
  }

  /** How the value looks, for error messages: the scalar quoted, or the kind of container. */
  String describe() {
    return describe(value);
  }

  static String describe(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) return "nothing";
    if (node.isObject()) return "a mapping";
    if (node.isArray()) return "a list";
    return "'" + node.asText() + "'";
  }
}
