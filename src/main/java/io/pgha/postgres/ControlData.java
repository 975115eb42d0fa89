package io.pgha.postgres;

import java.util.HashMap;
import java.util.Map;

/** The parts of {@code pg_controldata} output that decisions use. */
public record ControlData(Map<String, String> fields) {

  public static ControlData parse(String output) {
    Map<String, String> fields = new HashMap<>();
    for (String line : output.split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) fields.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
    return new ControlData(Map.copyOf(fields));
  }

  public String systemIdentifier() {
    return fields.get("Database system identifier");
  }

  /** {@code in production}, {@code shut down}, {@code shut down in recovery}, {@code in archive recovery}... */
  public String clusterState() {
    return fields.getOrDefault("Database cluster state", "");
  }

  /** The last known role of this data directory was primary (or a crashed primary). */
  public boolean wasPrimary() {
    String s = clusterState();
    return s.equals("in production") || s.equals("shut down") || s.equals("shutting down")
        || s.equals("in crash recovery");
  }

  /** pg_rewind accepts only a cleanly shut down target. */
  public boolean cleanShutdown() {
    String s = clusterState();
    return s.equals("shut down") || s.equals("shut down in recovery");
  }

  public long latestCheckpointLsn() {
    return Lsn.parse(fields.getOrDefault("Latest checkpoint location", "0/0"));
  }

  public int latestCheckpointTimeline() {
    try {
      return Integer.parseInt(fields.getOrDefault("Latest checkpoint's TimeLineID", "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
