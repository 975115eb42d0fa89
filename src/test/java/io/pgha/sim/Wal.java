package io.pgha.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The WAL a data directory holds, as the truth the checkers need: a list of contiguous segments, each written on one
 * <em>branch</em> (a run-unique id per timeline creation) under a postgres timeline number. Two promotions can both
 * pick timeline 2; their branches differ, which is how a divergence is told apart from a shared history.
 *
 * @param segments from LSN 0, contiguous; a segment covers the bytes (startLsn, endLsn]
 */
public record Wal(List<Segment> segments) {
  public record Segment(int branch, int timeline, long startLsn, long endLsn) {}

  public Wal {
    segments = List.copyOf(segments);
  }

  public static Wal initdb(int branch) {
    return new Wal(List.of(new Segment(branch, 1, 0, 1)));
  }

  public long endLsn() {
    return segments.isEmpty() ? 0 : segments.get(segments.size() - 1).endLsn();
  }

  public int timeline() {
    return segments.isEmpty() ? 0 : segments.get(segments.size() - 1).timeline();
  }

  public int branch() {
    return segments.isEmpty() ? 0 : segments.get(segments.size() - 1).branch();
  }

  public Wal append(long bytes) {
    List<Segment> s = new ArrayList<>(segments);
    Segment last = s.remove(s.size() - 1);
    s.add(new Segment(last.branch(), last.timeline(), last.startLsn(), last.endLsn() + bytes));
    return new Wal(s);
  }

  /** A promotion: a new branch on {@code timeline} starting at the end, with its end-of-recovery record. */
  public Wal fork(int branch, int timeline) {
    List<Segment> s = new ArrayList<>(segments);
    long end = endLsn();
    s.add(new Segment(branch, timeline, end, end + 1));
    return new Wal(s);
  }

  /** The branch that wrote byte {@code lsn} (0 when not held). */
  public int branchAt(long lsn) {
    for (Segment s : segments) {
      if (lsn > s.startLsn() && lsn <= s.endLsn()) return s.branch();
    }
    return 0;
  }

  /** Whether this WAL holds the commit written at {@code lsn} on {@code branch}. */
  public boolean holds(int branch, long lsn) {
    return branchAt(lsn) == branch;
  }

  /** The last LSN up to which both WALs hold the same bytes (their fork point; 0 when nothing is shared). */
  public long commonPrefix(Wal other) {
    long common = 0;
    for (Segment s : segments) {
      for (Segment o : other.segments) {
        if (o.branch() != s.branch()) continue;
        long lo = Math.max(s.startLsn(), o.startLsn());
        long hi = Math.min(s.endLsn(), o.endLsn());
        if (hi > lo && lo == common) common = hi;
      }
    }
    return common;
  }

  /** This WAL is a prefix of {@code other}: a standby holding it can stream from {@code other}. */
  public boolean prefixOf(Wal other) {
    return commonPrefix(other) == endLsn() && other.endLsn() >= endLsn();
  }

  /** This WAL cut at {@code lsn}. */
  public Wal truncate(long lsn) {
    List<Segment> s = new ArrayList<>();
    for (Segment seg : segments) {
      if (seg.startLsn() >= lsn && !s.isEmpty()) break;
      s.add(new Segment(seg.branch(), seg.timeline(), seg.startLsn(), Math.min(seg.endLsn(), lsn)));
    }
    return new Wal(s);
  }

  /** The timeline history file of the current timeline, as {@code TIMELINE_HISTORY} returns it. */
  public String historyText() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i + 1 < segments.size(); i++) {
      Segment s = segments.get(i);
      if (s.timeline() == segments.get(i + 1).timeline()) continue;
      b.append(s.timeline()).append('\t').append(Long.toHexString(s.endLsn() >>> 32).toUpperCase()).append('/')
          .append(Long.toHexString(s.endLsn() & 0xffffffffL).toUpperCase()).append("\tno recovery target specified\n");
    }
    return b.toString();
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (Segment s : segments) {
      b.append("[b").append(s.branch()).append(" tl").append(s.timeline()).append(' ').append(s.startLsn())
          .append("..").append(s.endLsn()).append(']');
    }
    return b.toString();
  }
}
