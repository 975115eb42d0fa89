package io.pgha.guard;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When to arm, push and disarm the fencing guard, and the deadline it gets. The guard itself is a process outside
 * the agent's JVM ({@link GuardProcess}); this class only decides what to tell it, through a {@link Channel}, so the
 * rules can be tested with a fake one.
 *
 * <p>The deadline is the earliest moment the server could expire our session, less {@link #GUARD_MARGIN_MS}: the
 * server cannot expire it before {@code lockConfirmedAt + session timeout}, where lockConfirmedAt is when the last
 * request proving our key was sent. The agent's own fence ({@code HaCore.fenceWhenDcsLost}) forces an immediate stop
 * at expiry − 1000 ms; the guard fires at expiry − 500 ms, after the agent's fence had its chance and still 500 ms
 * before anyone else can take the key. The guard reacts within milliseconds (measured: its kill is done 10-80 ms
 * after the deadline on a loaded 2-core machine).
 */
public final class FencingGuard {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.guard");
  public static final long GUARD_MARGIN_MS = 500;

  /** Where the arm/disarm lines go; {@code send} returns false when no guard process takes them. */
  public interface Channel {
    boolean send(String line);
  }

  /** Where the guard's deadline is measured: the JVM's monotonic clock and the guard's {@code /proc/uptime}. */
  public interface Clocks {
    long monotonicMs();

    long uptimeMs();
  }

  /**
   * What the HA loop knows when it asks the guard to act.
   *
   * @param failsafeUntilMs failsafe mode (§10.2): send time of the last {@code POST /failsafe} round that every listed
   *     member accepted, plus ttl; 0 when none. Until then no other member may take over (see
   *     {@code io.pgha.decision.Failsafe}), so it counts like the session's bound, with the same margin.
   */
  public record Situation(boolean paused, boolean holdsKey, long postmasterPid, Boolean inRecovery,
      boolean promoting, long lockConfirmedAtMs, long sessionMs, long failsafeUntilMs) {

    public Situation(boolean paused, boolean holdsKey, long postmasterPid, Boolean inRecovery, boolean promoting,
        long lockConfirmedAtMs, long sessionMs) {
      this(paused, holdsKey, postmasterPid, inRecovery, promoting, lockConfirmedAtMs, sessionMs, 0);
    }
  }

  public enum Step { PUSH, DISARM, KEEP }

  private final Channel channel;
  private final Clocks clocks;
  private final java.util.function.IntConsumer armedGauge;
  private boolean armed;
  private long armedPid;
  private long armedStartTime;

  public FencingGuard(Channel channel, Clocks clocks, java.util.function.IntConsumer armedGauge) {
    this.channel = channel;
    this.clocks = clocks;
    this.armedGauge = armedGauge;
  }

  /**
   * Disarmed only where no writable postgres runs under an unpaused agent: postgres is down, a replica that is not
   * being promoted, or the cluster is paused (Patroni disables its watchdog in pause). Pushed while we hold the key
   * and postgres is (or is becoming) the primary. Otherwise left as it is: a primary that lost its key keeps its
   * last deadline, and the guard fires if the agent's own fence has not stopped it by then.
   */
  public static Step step(Situation s) {
    if (s.postmasterPid() <= 0 || s.paused()) return Step.DISARM;
    if (Boolean.TRUE.equals(s.inRecovery()) && !s.promoting()) return Step.DISARM;
    if (s.holdsKey() && s.lockConfirmedAtMs() > 0) return Step.PUSH;
    // failsafe: the key may be gone with our session, the all-accepted round is what covers postgres now
    if (s.failsafeUntilMs() > 0) return Step.PUSH;
    return Step.KEEP;
  }

  /**
   * Milliseconds from {@code nowMs} to the guard's deadline: the later of the session's bound and the failsafe cover
   * (never anything else), less {@link #GUARD_MARGIN_MS}; negative once it has passed.
   */
  public static long remainingMs(Situation s, long nowMs) {
    long sessionBound = s.lockConfirmedAtMs() > 0 ? s.lockConfirmedAtMs() + s.sessionMs() : 0;
    return Math.max(sessionBound, s.failsafeUntilMs()) - GUARD_MARGIN_MS - nowMs;
  }

  /** Milliseconds from {@code nowMs} to the guard's deadline; negative once it has passed. */
  public static long remainingMs(long lockConfirmedAtMs, long sessionMs, long nowMs) {
    return lockConfirmedAtMs + sessionMs - GUARD_MARGIN_MS - nowMs;
  }

  /** Applies {@link #step} to {@code s}; returns what it did. */
  public Step update(Situation s, String why) {
    Step step = step(s);
    switch (step) {
      case PUSH -> push(s);
      case DISARM -> disarm(why);
      case KEEP -> { }
    }
    return step;
  }

  private void push(Situation s) {
    long pid = s.postmasterPid();
    if (pid != armedPid) {
      armedStartTime = startTimeOf(pid);
      armedPid = pid;
    }
    if (armedStartTime < 0) return; // the postmaster is gone: the exit event disarms
    // uptime first, then the monotonic clock: a pause between the two reads can only move the deadline earlier
    long uptime = clocks.uptimeMs();
    long remaining = remainingMs(s, clocks.monotonicMs());
    boolean sent = channel.send("arm " + Math.max(0, remaining) + " " + pid + " " + armedStartTime
        + (uptime > 0 ? " " + uptime : ""));
    if (sent && !armed) {
      LOG.info("fencing guard armed for postmaster {}: it kills postgres {} ms from now unless the leader key is"
          + " confirmed again", pid, remaining);
    }
    setArmed(sent);
  }

  public void disarm(String why) {
    if (!armed) return;
    channel.send("disarm");
    LOG.info("fencing guard disarmed: {}", why);
    setArmed(false);
    armedPid = 0;
  }

  /** The guard process was replaced: it holds no deadline, the next push arms the new one. */
  public void guardRestarted() {
    setArmed(false);
    armedPid = 0;
  }

  public boolean armed() {
    return armed;
  }

  private void setArmed(boolean value) {
    armed = value;
    armedGauge.accept(value ? 1 : 0);
  }

  /** Field 22 of /proc/&lt;pid&gt;/stat (start time in clock ticks since boot), or -1 if the process is gone. */
  public static long startTimeOf(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
      String[] rest = stat.substring(stat.lastIndexOf(") ") + 2).trim().split(" ");
      if (rest[0].equals("Z") || rest[0].equals("X")) return -1;
      return Long.parseLong(rest[19]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** {@code /proc/uptime} in ms, the guard's clock (10 ms steps; floored, so a deadline built on it is never late). */
  public static long procUptimeMs() {
    // read at every push (twice a second while leading): one file kept open and read again from its start, which
    // makes the kernel render it anew, instead of an open, a stat and a close each time
    synchronized (UPTIME_BUFFER) {
      try {
        if (uptimeFile == null) uptimeFile = java.nio.channels.FileChannel.open(Path.of("/proc/uptime"));
        UPTIME_BUFFER.clear();
        uptimeFile.read(UPTIME_BUFFER, 0);
        return parseUptimeMs(UPTIME_BUFFER.flip());
      } catch (IOException | RuntimeException e) {
        try {
          if (uptimeFile != null) uptimeFile.close();
        } catch (IOException ignored) {
          // reopened at the next read
        }
        uptimeFile = null;
        return 0; // the guard then measures from the moment it reads the line
      }
    }
  }

  private static final java.nio.ByteBuffer UPTIME_BUFFER = java.nio.ByteBuffer.allocate(64);
  private static java.nio.channels.FileChannel uptimeFile;

  /** The first field of /proc/uptime ("12345.67 ...", seconds with two decimals) in ms; a bad field throws. */
  static long parseUptimeMs(java.nio.ByteBuffer text) {
    long hundredths = 0;
    int digits = 0;
    int decimals = -1;
    while (text.hasRemaining()) {
      char c = (char) text.get();
      if (c == '.' && decimals < 0) {
        decimals = 0;
      } else if (c >= '0' && c <= '9') {
        hundredths = hundredths * 10 + (c - '0');
        digits++;
        if (decimals >= 0) decimals++;
      } else {
        break;
      }
    }
    if (digits == 0 || digits > 17 || decimals != 2) throw new IllegalArgumentException("not /proc/uptime");
    return hundredths * 10;
  }
}
