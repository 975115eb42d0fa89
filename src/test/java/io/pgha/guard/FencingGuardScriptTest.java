package io.pgha.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code fencing-guard.sh} against a real process tree standing in for postgres: a "postmaster" ({@code
 * sleep}) whose children called setsid(), as postgres children do, so that only a scan by parent finds them.
 */
class FencingGuardScriptTest {
  @TempDir
  Path dir;

  private Process postmaster;
  private final List<Long> children = new ArrayList<>();
  private Process guard;
  private OutputStream toGuard;
  private final LinkedBlockingQueue<String> fromGuard = new LinkedBlockingQueue<>();

  @BeforeEach
  void startFakePostmaster() throws Exception {
    postmaster = new ProcessBuilder("bash", "-c", "setsid sleep 300 & setsid sleep 301 & exec sleep 302")
        .redirectErrorStream(true).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      children.clear();
      postmaster.toHandle().children().forEach(c -> children.add(c.pid()));
      if (children.size() == 2) break;
      Thread.sleep(20);
    }
    assertThat(children).as("the fake postmaster's children").hasSize(2);
  }

  @AfterEach
  void cleanUp() {
    if (guard != null) guard.destroyForcibly();
    postmaster.destroyForcibly();
    children.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
  }

  private void startGuard(String... extra) throws IOException, InterruptedException {
    Path script = GuardProcess.writeScript(dir);
    List<String> command = new ArrayList<>(List.of("bash", script.toString(), GuardProcess.logFile(dir).toString(),
        GuardProcess.markerFile(dir).toString()));
    command.addAll(List.of(extra));
    guard = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("err").toFile()))
        .start();
    toGuard = guard.getOutputStream();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(guard.getInputStream(),
          StandardCharsets.US_ASCII))) {
        String line;
        while ((line = in.readLine()) != null) fromGuard.add(line);
      } catch (IOException ignored) {
        // guard gone
      }
    });
    reader.setDaemon(true);
    reader.start();
    assertThat(next()).startsWith("ready ");
  }

  private void send(String line) throws IOException {
    toGuard.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    toGuard.flush();
  }

  private String next() throws InterruptedException {
    String line = fromGuard.poll(5, TimeUnit.SECONDS);
    assertThat(line).as("a line from the guard within 5 s").isNotNull();
    return line;
  }

  private long pid() {
    return postmaster.pid();
  }

  private long startTime() {
    return FencingGuard.startTimeOf(pid());
  }

  private static boolean alive(long pid) {
    return FencingGuard.startTimeOf(pid) >= 0;
  }

  /** SIGKILL is delivered when the process next runs: on a loaded machine that takes a moment. */
  private static boolean diesWithin(long pid, long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (alive(pid) && System.nanoTime() < deadline) Thread.sleep(5);
    return !alive(pid);
  }

  private long awaitPostmasterGone(long timeoutMs) throws InterruptedException {
    long start = System.nanoTime();
    while (alive(pid()) && System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(timeoutMs)) Thread.sleep(5);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  @Test
  void firesAtTheDeadlineAndKillsEveryChild() throws Exception {
    startGuard();
    long sentAt = System.nanoTime();
    send("arm 1000 " + pid() + " " + startTime() + " " + FencingGuard.procUptimeMs());
    assertThat(next()).startsWith("armed remaining_ms=");
    String fired = next();
    long firedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt);
    assertThat(fired).startsWith("fired deadline late_by_ms=");
    assertThat(Long.parseLong(fired.substring(fired.indexOf('=') + 1))).isBetween(0L, 200L);
    assertThat(firedAfterMs).isBetween(950L, 1250L);
    assertThat(postmaster.waitFor(1, TimeUnit.SECONDS)).isTrue();
    assertThat(postmaster.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
    for (long child : children) assertThat(diesWithin(child, 500)).as("child " + child + " killed").isTrue();
    assertThat(Files.readString(GuardProcess.markerFile(dir))).contains("fired deadline postmaster=" + pid());
    assertThat(Files.readString(GuardProcess.logFile(dir))).contains("killed postmaster " + pid() + " and 2 other");
    assertThat(GuardProcess.takeFires(dir)).hasSize(1);
    assertThat(GuardProcess.markerFile(dir)).doesNotExist();
  }

  @Test
  void doesNotFireWhileFedAndNotAfterDisarm() throws Exception {
    startGuard();
    for (int i = 0; i < 15; i++) {
      send("arm 600 " + pid() + " " + startTime() + " " + FencingGuard.procUptimeMs());
      Thread.sleep(100);
    }
    assertThat(next()).startsWith("armed");
    send("disarm");
    assertThat(next()).isEqualTo("disarmed");
    Thread.sleep(1000);
    assertThat(alive(pid())).isTrue();
    for (long child : children) assertThat(alive(child)).isTrue();
    send("status");
    assertThat(next()).isEqualTo("status disarmed");
    assertThat(GuardProcess.markerFile(dir)).doesNotExist();
  }

  @Test
  void exitsOnEndOfInputWhenDisarmed() throws Exception {
    startGuard();
    send("arm 5000 " + pid() + " " + startTime());
    assertThat(next()).startsWith("armed");
    send("exit");
    assertThat(next()).isEqualTo("refused exit: armed");
    send("disarm");
    assertThat(next()).isEqualTo("disarmed");
    toGuard.close();
    assertThat(guard.waitFor(2, TimeUnit.SECONDS)).isTrue();
    assertThat(alive(pid())).isTrue();
  }

  @Test
  void keepsTheDeadlineWhenTheAgentGoesAway() throws Exception {
    startGuard();
    long sentAt = System.nanoTime();
    send("arm 1500 " + pid() + " " + startTime() + " " + FencingGuard.procUptimeMs());
    assertThat(next()).startsWith("armed");
    toGuard.close(); // the agent died
    Thread.sleep(700);
    assertThat(guard.isAlive()).as("an armed guard outlives its agent").isTrue();
    assertThat(alive(pid())).isTrue();
    awaitPostmasterGone(3000);
    long goneAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentAt);
    assertThat(alive(pid())).isFalse();
    assertThat(goneAfterMs).isBetween(1450L, 1800L);
    for (long child : children) assertThat(diesWithin(child, 500)).isTrue();
    assertThat(guard.waitFor(2, TimeUnit.SECONDS)).as("the guard exits after it fired").isTrue();
    assertThat(Files.readString(GuardProcess.markerFile(dir))).contains("fired agent_gone");
  }

  @Test
  void exitsWithoutFiringWhenPostgresStopsAfterTheAgentWentAway() throws Exception {
    startGuard();
    send("arm 5000 " + pid() + " " + startTime());
    assertThat(next()).startsWith("armed");
    toGuard.close();
    postmaster.destroyForcibly().waitFor();
    assertThat(guard.waitFor(2, TimeUnit.SECONDS)).isTrue();
    assertThat(GuardProcess.markerFile(dir)).doesNotExist();
    for (long child : children) assertThat(alive(child)).as("not fenced: nothing was killed").isTrue();
  }

  /**
   * A re-arm for the postmaster already armed for skips the /proc check (every key confirmation sends one); the
   * identity is checked again when the deadline passes, so a postmaster gone meanwhile is never "fenced": nothing
   * is killed and the guard says so.
   */
  @Test
  void aReArmForTheArmedPostmasterThatIsGoneKillsNothingAtTheDeadline() throws Exception {
    startGuard();
    long start = startTime();
    send("arm 5000 " + pid() + " " + start);
    assertThat(next()).startsWith("armed");
    postmaster.destroyForcibly().waitFor();
    send("arm 400 " + pid() + " " + start + " " + FencingGuard.procUptimeMs());
    send("status");
    assertThat(next()).startsWith("status armed remaining_ms=");
    assertThat(next()).startsWith("expired postmaster_gone");
    assertThat(GuardProcess.markerFile(dir)).doesNotExist();
    for (long child : children) assertThat(alive(child)).as("not fenced: nothing was killed").isTrue();
  }

  @Test
  void refusesAPidWhoseStartTimeDiffers() throws Exception {
    startGuard();
    send("arm 300 " + pid() + " " + (startTime() + 1));
    assertThat(next()).startsWith("refused pid " + pid());
    send("status");
    assertThat(next()).isEqualTo("status disarmed");
    Thread.sleep(600);
    assertThat(alive(pid())).isTrue();
    send("arm 300 999999999 1");
    assertThat(next()).startsWith("refused pid 999999999");
    send("arm soon " + pid());
    assertThat(next()).startsWith("error usage");
  }

  @Test
  void aLineReadLateKeepsTheDeadlineItWasWrittenFor() throws Exception {
    startGuard();
    // written 2 s ago with 1 s left (the agent froze right after writing it): already overdue
    long start = System.nanoTime();
    send("arm 1000 " + pid() + " " + startTime() + " " + (FencingGuard.procUptimeMs() - 2000));
    assertThat(next()).startsWith("armed");
    assertThat(next()).startsWith("fired deadline");
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(500);
  }

  @Test
  void kicksAWatchdogDeviceWhileArmedAndClosesItWithTheMagicByte() throws Exception {
    Path device = dir.resolve("watchdog"); // a file standing in for /dev/watchdog: no device on these machines
    Files.createFile(device);
    startGuard(device.toString());
    send("arm 5000 " + pid() + " " + startTime());
    assertThat(next()).startsWith("armed");
    send("arm 5000 " + pid() + " " + startTime());
    send("disarm");
    assertThat(next()).isEqualTo("disarmed");
    assertThat(Files.readString(device)).isEqualTo("kkV");
  }
}
