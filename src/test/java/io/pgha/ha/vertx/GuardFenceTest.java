package io.pgha.ha.vertx;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.guard.GuardProcess;
import io.pgha.guard.GuardSettings;
import io.pgha.metrics.PghaMetrics;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which watchdog devices the guard uses (a file stands in for the device: these machines have none). */
class GuardFenceTest {
  @TempDir
  Path dir;

  @Test
  void aWritableDeviceWithAFittingTimeoutIsUsable() throws Exception {
    Path device = Files.createFile(dir.resolve("watchdog7"));
    assertThat(GuardFence.WatchdogDevice.unusableReason(device, 25, 10)).isNull();
  }

  @Test
  void aMissingDeviceOrATimeoutShorterThanLoopWaitIsNot() throws Exception {
    assertThat(GuardFence.WatchdogDevice.unusableReason(dir.resolve("none"), 25, 10)).isEqualTo("no such device");
    Path device = Files.createFile(dir.resolve("watchdog8"));
    assertThat(GuardFence.WatchdogDevice.unusableReason(device, 5, 10)).contains("shorter than loop_wait");
  }

  @Test
  void offMeansNoGuardProcess() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (PghaMetrics metrics = new PghaMetrics("s", "m")) {
      GuardSettings off = new GuardSettings(false, dir.resolve("rt"), GuardSettings.WatchdogMode.OFF,
          dir.resolve("wd"), 5);
      GuardFence link = new GuardFence(vertx, off, metrics, 10, 2);
      vertx.runOnContext(v -> link.start());
      Thread.sleep(300);
      assertThat(metrics.scrape()).containsPattern("pgha_fencing_guard_up\\{[^}]*} 0");
      assertThat(GuardProcess.scriptFile(dir.resolve("rt"))).doesNotExist();
      assertThat(link.watchdogFailed()).isFalse();
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aGuardThatDiesIsStartedAgainAndAClosedOneExits() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (PghaMetrics metrics = new PghaMetrics("s", "m")) {
      GuardSettings on = new GuardSettings(true, dir.resolve("rt"), GuardSettings.WatchdogMode.AUTOMATIC,
          dir.resolve("no-device"), 5);
      GuardFence link = new GuardFence(vertx, on, metrics, 10, 2);
      vertx.runOnContext(v -> link.start());
      long first = awaitGuardPid(dir.resolve("rt"), -1);
      assertThat(metrics.scrape()).containsPattern("pgha_fencing_guard_up\\{[^}]*} 1");
      ProcessHandle.of(first).orElseThrow().destroyForcibly(); // the guard we started dies
      long second = awaitGuardPid(dir.resolve("rt"), first);
      assertThat(second).isNotEqualTo(first);
      assertThat(Files.readString(GuardProcess.logFile(dir.resolve("rt")))).contains("pid=" + second + " started");
      vertx.runOnContext(v -> link.close());
      ProcessHandle guard = ProcessHandle.of(second).orElseThrow();
      guard.onExit().get(5, TimeUnit.SECONDS); // disarmed: it exits when its input closes
      assertThat(guard.isAlive()).isFalse();
    } finally {
      vertx.close().await();
    }
  }

  /** The pid of the newest guard that logged its start in {@code runtimeDir}, other than {@code not}. */
  private static long awaitGuardPid(Path runtimeDir, long not) throws Exception {
    Path log = GuardProcess.logFile(runtimeDir);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log)) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("pid=(\\d+) started").matcher(Files.readString(log));
        long last = -1;
        while (m.find()) last = Long.parseLong(m.group(1));
        if (last > 0 && last != not && ProcessHandle.of(last).map(ProcessHandle::isAlive).orElse(false)) return last;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no guard started in " + runtimeDir + " (other than " + not + ")");
  }
}
