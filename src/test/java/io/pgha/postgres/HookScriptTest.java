package io.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synchronous hooks' runner: exit codes, the time limit, commands that cannot run. */
class HookScriptTest {
  @TempDir Path dir;

  @Test
  void exitZeroSucceedsAndRunsWithoutExtraArguments() throws Exception {
    Path out = dir.resolve("args");
    HookScript.Result r = HookScript.run("pre_promote", "sh -c 'echo \"$#\" > \"$0\"' " + out, Duration.ofSeconds(10));
    assertThat(r.succeeded()).isTrue();
    assertThat(r.exitCode()).isZero();
    assertThat(Files.readString(out).trim()).isEqualTo("0");
  }

  @Test
  void aNonZeroExitFails() {
    HookScript.Result r = HookScript.run("pre_promote", "sh -c 'exit 3'", Duration.ofSeconds(10));
    assertThat(r.succeeded()).isFalse();
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.why()).isEqualTo("exited with code 3");
  }

  @Test
  void aScriptStillRunningAtTheLimitIsKilledAndFails() {
    long start = System.nanoTime();
    HookScript.Result r = HookScript.run("before_stop", "sleep 30", Duration.ofMillis(300));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    assertThat(r.succeeded()).isFalse();
    assertThat(r.exitCode()).isNull();
    assertThat(r.why()).contains("killed");
  }

  @Test
  void aCommandThatCannotStartOrBeSplitFails() {
    assertThat(HookScript.run("pre_promote", dir.resolve("missing").toString(), Duration.ofSeconds(5)).succeeded())
        .isFalse();
    assertThat(HookScript.run("pre_promote", "/bin/x 'unclosed", Duration.ofSeconds(5)).why())
        .startsWith("cannot split");
  }
}
