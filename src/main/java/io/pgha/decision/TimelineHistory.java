package io.pgha.decision;

import java.util.ArrayList;
import java.util.List;

/**
 * A leader's timeline history (the text of {@code pg_wal/<TL>.history}, as {@code TIMELINE_HISTORY} returns it) and
 * patroni-compat §3.13's rule for a replica: it can follow the leader only if its WAL does not go past the point
 * where the leader's timeline forked off the replica's own.
 */
public final class TimelineHistory {
  /** One line: timeline {@code timeline} ended (the next one forked) at {@code switchLsn}. */
  public record Entry(int timeline, long switchLsn) {}

  private TimelineHistory() {}

  /**
   * Parses history lines {@code <tl>\t<X/Y>\t<reason>}; blank lines and {@code #} comments are skipped.
   *
   * @throws IllegalArgumentException on a line that is neither, naming it
   */
  public static List<Entry> parse(String text) {
    List<Entry> entries = new ArrayList<>();
    if (text == null) return entries;
    for (String raw : text.split("\n")) {
      String line = raw.trim();
      if (line.isEmpty() || line.startsWith("#")) continue;
      String[] fields = line.split("\\s+", 3);
      long lsn = fields.length >= 2 ? parseLsn(fields[1]) : -1;
      int tl;
      try {
        tl = Integer.parseInt(fields[0]);
      } catch (NumberFormatException e) {
        tl = -1;
      }
      if (tl <= 0 || lsn < 0) throw new IllegalArgumentException("not a timeline history line: " + line);
      entries.add(new Entry(tl, lsn));
    }
    return entries;
  }

  /**
   * Whether a replica on {@code localTimeline} that has WAL up to {@code localLsn} (max of received and replayed)
   * must be rewound before it can stream from a leader on {@code leaderTimeline} with this {@code history}.
   * A newer local timeline than the leader's, or one the leader's history does not know, cannot be followed either;
   * the same timeline always can. Unknown positions (0) say nothing: false.
   */
  public static boolean replicaMustRewind(int localTimeline, long localLsn, int leaderTimeline, List<Entry> history) {
    if (localTimeline <= 0 || localLsn <= 0 || leaderTimeline <= 0) return false;
    if (localTimeline > leaderTimeline) return true;
    if (localTimeline == leaderTimeline) return false;
    for (Entry e : history) {
      if (e.timeline() == localTimeline) return localLsn > e.switchLsn();
    }
    return true;
  }

  /** The switch point of {@code timeline} in {@code history}, or -1 when it is not there. */
  public static long switchPoint(int timeline, List<Entry> history) {
    return history.stream().filter(e -> e.timeline() == timeline).mapToLong(Entry::switchLsn).findFirst().orElse(-1);
  }

  private static long parseLsn(String text) {
    int slash = text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1) return -1;
    try {
      return (Long.parseLong(text.substring(0, slash), 16) << 32) | Long.parseLong(text.substring(slash + 1), 16);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
