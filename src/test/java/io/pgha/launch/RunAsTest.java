package io.pgha.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunAsTest {

  @Test
  void unchangedWhenNotRoot() {
    assumeTrue(!RunAs.isRoot(), "runs as root");
    assertThat(RunAs.unprivilegedUser()).isEmpty();
    assertThat(RunAs.wrap(List.of("initdb", "-D", "x"))).containsExactly("initdb", "-D", "x");
  }

  @Test
  void rootRunsCommandsAsTheUnprivilegedUserInTheSameProcess() throws Exception {
    assumeTrue(RunAs.isRoot(), "not root");
    assertThat(RunAs.unprivilegedUser()).isPresent();
    int uid = RunAs.Account.lookup(RunAs.unprivilegedUser().get()).uid();

    Process sleep = new ProcessBuilder(RunAs.wrap(List.of("sleep", "30"))).start();
    try {
      // setpriv execs: once it has switched, the started pid is the command itself, running as the user
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      Path proc = Path.of("/proc", Long.toString(sleep.pid()));
      while (!Files.readString(proc.resolve("comm")).trim().equals("sleep") && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(Files.readString(proc.resolve("comm")).trim()).isEqualTo("sleep");
      assertThat(Files.getAttribute(proc, "unix:uid")).isEqualTo(uid);
    } finally {
      sleep.destroyForcibly();
      sleep.waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void sharedCopyIsReadableByTheUser(@TempDir Path dir) throws Exception {
    Path original = Files.writeString(dir.resolve("app.jar"), "jar");
    Path shared = RunAs.shareReadable(original, dir.resolve("shared"));

    assertThat(shared).hasContent("jar");
    assertThat(Files.getPosixFilePermissions(shared).toString()).contains("OTHERS_READ");
    if (RunAs.isRoot()) {
      assertThat(Files.getOwner(shared).getName()).isEqualTo(RunAs.unprivilegedUser().orElseThrow());
    }
  }
}
