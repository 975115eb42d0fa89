package io.pgha.faults;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every acknowledged commit of every writer: which member acknowledged it, when the client sent it and when the
 * acknowledgement arrived (milliseconds on the suite's monotonic clock), and the unique value inserted.
 */
final class Ledger {

  record Ack(String member, double sentMs, double ackMs, long value) {}

  /** A member taking over the writes: its first acknowledgement after another member's. */
  record Takeover(String from, String to, double atMs) {}

  private final List<Ack> acks = new ArrayList<>();

  synchronized void record(Ack ack) {
    acks.add(ack);
  }

  /** Acknowledgements with an ack time in [fromMs, toMs], in ack order. */
  synchronized List<Ack> between(double fromMs, double toMs) {
    return acks.stream().filter(a -> a.ackMs() >= fromMs && a.ackMs() <= toMs)
        .sorted(Comparator.comparingDouble(Ack::ackMs)).toList();
  }

  /** The outcome of the single-writer check over one window. */
  record SingleWriter(int violations, List<Takeover> takeovers, Optional<Ack> firstByNewPrimary) {}

  /**
   * Single writer: walking the acknowledgements in order, starting with {@code primary} as the writer, a member
   * that acknowledges while another is the writer takes over and the previous writer is retired; any later
   * acknowledgement by a retired member is a violation (a write an old primary accepted after a new primary had
   * accepted one). Acknowledgements are ordered by ack time, so a write sent before the takeover but
   * acknowledged after it counts too: its client was told "committed" by a primary that had been replaced.
   */
  static SingleWriter singleWriter(List<Ack> window, String primary) {
    String writer = primary;
    Set<String> retired = new HashSet<>();
    List<Takeover> takeovers = new ArrayList<>();
    Ack first = null;
    int violations = 0;
    for (Ack ack : window) {
      if (ack.member().equals(writer)) {
        continue;
      }
      if (retired.contains(ack.member())) {
        violations++;
        continue;
      }
      takeovers.add(new Takeover(writer, ack.member(), ack.ackMs()));
      if (first == null) {
        first = ack;
      }
      retired.add(writer);
      writer = ack.member();
    }
    return new SingleWriter(violations, takeovers, Optional.ofNullable(first));
  }
}
