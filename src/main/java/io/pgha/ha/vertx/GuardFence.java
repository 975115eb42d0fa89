package io.pgha.ha.vertx;

import io.pgha.dcs.ZooKeeperDcs;
import io.pgha.guard.FencingGuard;
import io.pgha.guard.GuardProcess;
import io.pgha.guard.GuardSettings;
import io.pgha.ha.port.Fence;
import io.pgha.metrics.PghaMetrics;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HA loop's side of the fencing guard: starts the guard process (again, if it exits), tells it what
 * {@link FencingGuard} decides, and counts the guard's fires, whether this agent saw them on the guard's output (it
 * resumed after a freeze) or finds them in the marker file (it started after the fire).
 */
final class GuardFence implements Fence {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.guard");
  private static final long RESPAWN_DELAY_MS = 1000;
  private static final long RETRY_AFTER_FAILURE_MS = 30_000;

  private final Vertx vertx;
  private final GuardSettings settings;
  private final PghaMetrics metrics;
  private final Path device;
  private final boolean watchdogFailed;
  private GuardProcess process;
  private FencingGuard guard;
  private boolean failedLogged;
  private boolean closed;

  GuardFence(Vertx vertx, GuardSettings settings, PghaMetrics metrics, int ttlSeconds, int loopWaitSeconds) {
    this.vertx = vertx;
    this.settings = settings;
    this.metrics = metrics;
    String unusable = settings.watchdogMode() == GuardSettings.WatchdogMode.OFF ? "off"
        : WatchdogDevice.unusableReason(settings.watchdogDevice(), settings.watchdogTimeoutSeconds(ttlSeconds),
            loopWaitSeconds);
    this.device = unusable == null ? settings.watchdogDevice() : null;
    this.watchdogFailed = settings.watchdogMode() == GuardSettings.WatchdogMode.REQUIRED && unusable != null;
    if (watchdogFailed) {
      LOG.error("watchdog.mode is required but {} cannot be used ({}): this member will not become the leader",
          settings.watchdogDevice(), unusable);
    } else if (unusable != null && !unusable.equals("off")) {
      LOG.info("watchdog device {} not used ({}); the fencing guard works without it", settings.watchdogDevice(),
          unusable);
    } else if (device != null) {
      LOG.info("watchdog device {} is kicked by the fencing guard while it is armed (timeout {} s)", device,
          settings.watchdogTimeoutSeconds(ttlSeconds));
    }
  }

  /** Patroni's {@code watchdog_failed}: mode required and no usable device; the member must not lead. */
  @Override
  public boolean watchdogFailed() {
    return watchdogFailed;
  }

  @Override
  public boolean guarding() {
    return settings.enabled();
  }

  @Override
  public void start() {
    countFires("before this agent started");
    if (!settings.enabled()) {
      LOG.info("fencing guard off ({})", "pgha.fencing_guard / " + GuardSettings.ENV);
      metrics.fencingGuardUp(false);
      return;
    }
    process = new GuardProcess(settings.runtimeDir(), device, this::onGuardLine,
        code -> vertx.runOnContext(v -> guardExited(code)));
    guard = new FencingGuard(process, new FencingGuard.Clocks() {
      @Override public long monotonicMs() { return ZooKeeperDcs.monotonicMs(); }
      @Override public long uptimeMs() { return FencingGuard.procUptimeMs(); }
    }, armed -> metrics.fencingGuardArmed(armed == 1));
    spawn();
  }

  private void spawn() {
    if (closed) return;
    try {
      process.start();
      metrics.fencingGuardUp(true);
      failedLogged = false;
      LOG.info("fencing guard started (pid {}, log {})", process.pid(), GuardProcess.logFile(settings.runtimeDir()));
    } catch (IOException | RuntimeException e) {
      metrics.fencingGuardUp(false);
      if (!failedLogged) {
        LOG.error("fencing guard cannot run: {}; leading without it (retrying every {} s)", e.getMessage(),
            RETRY_AFTER_FAILURE_MS / 1000);
        failedLogged = true;
      }
      vertx.setTimer(RETRY_AFTER_FAILURE_MS, t -> spawn());
    }
  }

  private void guardExited(int code) {
    if (closed) return;
    metrics.fencingGuardUp(false);
    guard.guardRestarted();
    countFires("by the guard that exited");
    LOG.warn("fencing guard exited unexpectedly (exit code {}): starting a new one", code);
    vertx.setTimer(RESPAWN_DELAY_MS, t -> spawn());
  }

  /** A line of the guard's output, on the guard reader's thread. */
  private void onGuardLine(String line) {
    if (line.startsWith("fired")) {
      vertx.runOnContext(v -> {
        LOG.error("the fencing guard killed postgres: {} (the agent did not confirm the leader key in time)", line);
        guard.guardRestarted(); // it disarmed itself when it fired
        countFires("while this agent was not responding");
      });
    } else if (line.startsWith("refused pid")) {
      LOG.warn("fencing guard: {}", line);
      vertx.runOnContext(v -> guard.guardRestarted()); // it holds no deadline for that postmaster: say so, push afresh
    } else if (line.startsWith("refused") || line.startsWith("error") || line.startsWith("watchdog_failed")) {
      LOG.warn("fencing guard: {}", line);
    } else {
      LOG.debug("fencing guard: {}", line);
    }
  }

  /** Counts (and logs) the fires recorded in the marker file, by any guard of this member. */
  @Override
  public void countFires(String when) {
    // the marker file is read on a worker (a file read must not run on the event loop); the count comes back here
    vertx.<List<String>>executeBlocking(() -> GuardProcess.takeFires(settings.runtimeDir()), false)
        .onSuccess(fires -> {
          if (fires.isEmpty()) return;
          for (String fire : fires) LOG.error("the fencing guard fenced postgres {}: {}", when, fire);
          metrics.fencingGuardFired(fires.size());
        });
  }

  @Override
  public void update(FencingGuard.Situation s, String why) {
    if (guard != null) guard.update(s, why);
  }

  @Override
  public void disarm(String why) {
    if (guard != null) guard.disarm(why);
  }

  boolean armed() {
    return guard != null && guard.armed();
  }

  /** Closes the guard's stdin: disarmed, it exits; still armed (postgres did not stop), it keeps its deadline. */
  @Override
  public void close() {
    closed = true;
    if (process != null) process.close();
    if (guard != null && !guard.armed()) metrics.fencingGuardUp(false);
  }

  /** A watchdog device check, as far as it can be done without ioctl: it exists, opens, and its timeout fits. */
  static final class WatchdogDevice {
    private WatchdogDevice() {}

    /** Why {@code device} cannot serve as Patroni's watchdog with {@code timeoutSeconds}; null if it can. */
    static String unusableReason(Path device, int timeoutSeconds, int loopWaitSeconds) {
      if (timeoutSeconds - loopWaitSeconds < 0) {
        return "watchdog timeout " + timeoutSeconds + " s is shorter than loop_wait " + loopWaitSeconds + " s";
      }
      if (!Files.exists(device)) return "no such device";
      if (!Files.isWritable(device)) return "not writable by this user";
      // the guard cannot set the timeout (that takes an ioctl): the device's own must not be longer than wanted
      Path sys = Path.of("/sys/class/watchdog", device.getFileName().toString().equals("watchdog") ? "watchdog0"
          : device.getFileName().toString(), "timeout");
      if (Files.isReadable(sys)) {
        try {
          int actual = Integer.parseInt(Files.readString(sys, StandardCharsets.US_ASCII).trim());
          if (actual > timeoutSeconds) {
            return "its timeout is " + actual + " s, longer than ttl - safety_margin = " + timeoutSeconds + " s";
          }
        } catch (IOException | NumberFormatException e) {
          return "cannot read " + sys + ": " + e.getMessage();
        }
      }
      return null;
    }
  }
}
