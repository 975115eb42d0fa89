package io.pgha.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * The one queue of a simulation run: events ordered by (true time, sequence number), one seeded {@link Random}, no
 * wall clock and no threads. Every event run is logged to a bounded trace, so a failing seed prints what happened
 * just before it failed.
 */
public final class SimScheduler {
  /** A scheduled event; {@link #cancel} keeps it from running (it stays in the queue until its time). */
  public static final class Event {
    final long timeMs;
    final long seq;
    final String label;
    final Runnable action;
    boolean cancelled;

    Event(long timeMs, long seq, String label, Runnable action) {
      this.timeMs = timeMs;
      this.seq = seq;
      this.label = label;
      this.action = action;
    }

    public void cancel() {
      cancelled = true;
    }

    public boolean cancelled() {
      return cancelled;
    }

    public long timeMs() {
      return timeMs;
    }
  }

  /** Called after every event; a checker throws {@link SimFailure} to stop the run. */
  public interface StepListener {
    void afterStep(long step, long nowMs);
  }

  private final PriorityQueue<Event> queue = new PriorityQueue<>((a, b) -> a.timeMs != b.timeMs
      ? Long.compare(a.timeMs, b.timeMs) : Long.compare(a.seq, b.seq));
  private final Random random;
  private final long seed;
  private final ArrayDeque<String> trace = new ArrayDeque<>();
  private final int traceLinesMax;
  private final List<StepListener> listeners = new ArrayList<>();
  private long nowMs;
  private long seq;
  private long step;
  private int nextId = 1;

  public SimScheduler(long seed, int traceLinesMax) {
    this.seed = seed;
    this.random = new Random(seed);
    this.traceLinesMax = traceLinesMax;
  }

  public long seed() {
    return seed;
  }

  public Random random() {
    return random;
  }

  /** True (simulated) time in ms since the start of the run: the ZooKeeper servers' clock. */
  public long nowMs() {
    return nowMs;
  }

  public long step() {
    return step;
  }

  public void addListener(StepListener l) {
    listeners.add(l);
  }

  public Event at(long timeMs, String label, Runnable action) {
    if (timeMs < nowMs) throw new IllegalArgumentException("event in the past: " + label + " at " + timeMs);
    Event e = new Event(timeMs, seq++, label, action);
    queue.add(e);
    return e;
  }

  public Event after(long delayMs, String label, Runnable action) {
    return at(nowMs + Math.max(0, delayMs), label, action);
  }

  /** A uniformly drawn delay in [minMs, maxMs]. */
  public long delay(long minMs, long maxMs) {
    return maxMs <= minMs ? minMs : minMs + (long) (random.nextDouble() * (maxMs - minMs + 1));
  }

  /** A run-wide counter (WAL branch ids, system ids): deterministic, unlike identity hashes. */
  public int nextId() {
    return nextId++;
  }

  public boolean chance(double p) {
    return random.nextDouble() < p;
  }

  /** Adds one line to the trace (decisions, faults, checker notes), stamped with time and step. */
  public void log(String line) {
    if (trace.size() >= traceLinesMax) trace.removeFirst();
    trace.addLast("t=" + nowMs + " step=" + step + " " + line);
  }

  public List<String> trace() {
    return List.copyOf(trace);
  }

  public boolean idle() {
    return queue.stream().allMatch(e -> e.cancelled);
  }

  /**
   * Runs events in order until the next one lies after {@code untilMs} (time then stands at {@code untilMs}) or
   * {@code stepsMax} events ran in this call (then a {@link SimFailure}: a run must be bounded).
   */
  public void runUntil(long untilMs, long stepsMax) {
    long ran = 0;
    while (!queue.isEmpty() && queue.peek().timeMs <= untilMs) {
      Event e = queue.poll();
      if (e.cancelled) continue;
      nowMs = e.timeMs;
      step++;
      if (++ran > stepsMax) throw new SimFailure("step budget of " + stepsMax + " exhausted before t=" + untilMs);
      if (e.label != null) log(e.label);
      e.action.run();
      for (StepListener l : listeners) l.afterStep(step, nowMs);
    }
    nowMs = Math.max(nowMs, untilMs);
  }
}
