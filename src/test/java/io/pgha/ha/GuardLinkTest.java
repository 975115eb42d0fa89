package io.pgha.ha;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which watchdog devices the guard uses (a file stands in for the device: these machines have none). */
class GuardLinkTest {
  @TempDir
  Path dir;

  @Test
  void aWritableDeviceWithAFittingTimeoutIsUsable() throws Exception {
    Path device = Files.createFile(dir.resolve("watchdog7"));
    assertThat(GuardLink.WatchdogDevice.unusableReason(device, 25, 10)).isNull();
  }

  @Test
  void aMissingDeviceOrATimeoutShorterThanLoopWaitIsNot() throws Exception {
    assertThat(GuardLink.WatchdogDevice.unusableReason(dir.resolve("none"), 25, 10)).isEqualTo("no such device");
    Path device = Files.createFile(dir.resolve("watchdog8"));
    assertThat(GuardLink.WatchdogDevice.unusableReason(device, 5, 10)).contains("shorter than loop_wait");
  }
}
