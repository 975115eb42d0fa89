package io.pgha.metrics;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format 0.0.4, for tests: it fails on anything Prometheus would reject and on
 * what promtool 2.42 lets through (a family named twice, a sample outside its family, a series written twice).
 */
final class Exposition {
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*) ?(\\{[^}]*})? (\\S+)( -?\\d+)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");
  private static final Set<String> SUFFIXES = Set.of("", "_bucket", "_count", "_sum", "_created");

  record Sample(String name, Map<String, String> labels, String value) {
    double number() {
      return Double.parseDouble(value);
    }
  }

  record Family(String name, String help, String type, List<String> comments, List<Sample> samples) {}

  private Exposition() {}

  /** Families by name, in the order written. */
  static Map<String, Family> parse(String text) {
    if (!text.endsWith("\n")) {
      throw new AssertionError("exposition does not end with a newline");
    }
    Map<String, Family> families = new LinkedHashMap<>();
    Set<String> series = new HashSet<>();
    Family current = null;
    int lineNo = 0;
    for (String line : text.substring(0, text.length() - 1).split("\n", -1)) {
      lineNo++;
      String where = "line " + lineNo + ": " + line;
      if (line.startsWith("# HELP ")) {
        String[] parts = line.substring(7).split(" ", 2);
        current = newFamily(families, parts[0], parts.length > 1 ? parts[1] : "", where);
      } else if (line.startsWith("# TYPE ")) {
        String[] parts = line.substring(7).split(" ");
        if (parts.length != 2) {
          throw new AssertionError("malformed TYPE, " + where);
        }
        if (current == null || !current.name().equals(parts[0]) || current.type() != null
            || !current.samples().isEmpty()) {
          current = newFamily(families, parts[0], null, where);
        }
        Family typed = new Family(current.name(), current.help(), parts[1], current.comments(), current.samples());
        families.put(typed.name(), typed);
        current = typed;
      } else if (line.startsWith("#")) {
        if (current == null) {
          throw new AssertionError("comment outside a family, " + where);
        }
        current.comments().add(line);
      } else if (line.isEmpty()) {
        throw new AssertionError("empty line, " + where);
      } else {
        Matcher m = SAMPLE.matcher(line);
        if (!m.matches()) {
          throw new AssertionError("malformed sample, " + where);
        }
        String name = m.group(1);
        if (current == null || !belongs(name, current)) {
          throw new AssertionError("sample outside its family (" + (current == null ? "none" : current.name())
              + "), " + where);
        }
        Map<String, String> labels = labels(m.group(2), where);
        if (!series.add(name + labels)) {
          throw new AssertionError("series written twice, " + where);
        }
        Double.parseDouble(m.group(3).replace("+Inf", "Infinity").replace("-Inf", "-Infinity"));
        current.samples().add(new Sample(name, labels, m.group(3)));
      }
    }
    return families;
  }

  private static Family newFamily(Map<String, Family> families, String name, String help, String where) {
    if (families.containsKey(name)) {
      throw new AssertionError("family " + name + " written twice, " + where);
    }
    Family f = new Family(name, help, null, new ArrayList<>(), new ArrayList<>());
    families.put(name, f);
    return f;
  }

  private static boolean belongs(String sample, Family family) {
    for (String suffix : SUFFIXES) {
      if (sample.equals(family.name() + suffix)) {
        return true;
      }
    }
    return false;
  }

  private static Map<String, String> labels(String block, String where) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (block == null) {
      return labels;
    }
    String inner = block.substring(1, block.length() - 1);
    Matcher m = LABEL.matcher(inner);
    int end = 0;
    while (m.find() && m.start() == end) {
      if (labels.put(m.group(1), m.group(2)) != null) {
        throw new AssertionError("label " + m.group(1) + " twice, " + where);
      }
      end = m.end();
    }
    if (end != inner.length()) {
      throw new AssertionError("malformed labels, " + where);
    }
    return labels;
  }
}
