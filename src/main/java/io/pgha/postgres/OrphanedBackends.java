package io.pgha.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * After a postmaster dies by SIGKILL its backends notice and exit on their own, a moment later (longer on a busy
 * machine). Until the last one has, they keep the old System V shared memory segment attached, and a new postmaster
 * refuses to start ("pre-existing shared memory block ... is still in use"). A start attempted in that window fails
 * for nothing, and a leader whose start fails gives up its key. So before a start we wait, briefly and boundedly, for
 * the segment named in the old postmaster.pid to have no process attached, as read from {@code /proc/sysvipc/shm}.
 */
final class OrphanedBackends {
  /** Longest wait: backends exit within milliseconds of noticing; a segment still held after this is postgres's call. */
  static final long WAIT_MS = 5000;
  private static final long POLL_MS = 50;
  private static final Path SYSVIPC_SHM = Path.of("/proc/sysvipc/shm");

  private OrphanedBackends() {}

  /**
   * Waits (blocking: call it on a worker) until the shared memory segment of the postmaster.pid in {@code dataDir}
   * has no attached process, or {@link #WAIT_MS} passed. Returns how many milliseconds it waited.
   */
  static long awaitDetached(Path dataDir) throws InterruptedException {
    OptionalInt shmid = shmid(dataDir.resolve("postmaster.pid"));
    if (shmid.isEmpty()) return 0;
    long start = System.nanoTime();
    long deadline = start + WAIT_MS * 1_000_000;
    while (attached(readShm(), shmid.getAsInt()) > 0 && System.nanoTime() < deadline) {
      Thread.sleep(POLL_MS);
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** Line 7 of postmaster.pid: {@code <key> <shmid>}, both blank-padded; empty when absent or unreadable. */
  static OptionalInt shmid(Path postmasterPid) {
    try {
      List<String> lines = Files.readAllLines(postmasterPid, StandardCharsets.UTF_8);
      if (lines.size() < 7) return OptionalInt.empty();
      String[] fields = lines.get(6).trim().split("\\s+");
      return fields.length == 2 ? OptionalInt.of(Integer.parseInt(fields[1])) : OptionalInt.empty();
    } catch (IOException | NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  /** The {@code nattch} column of {@code shmid} in /proc/sysvipc/shm text; 0 when the segment is gone. */
  static int attached(String procSysvipcShm, int shmid) {
    String[] lines = procSysvipcShm.split("\n");
    for (int i = 1; i < lines.length; i++) {
      String[] f = lines[i].trim().split("\\s+");
      if (f.length > 6 && f[1].equals(Integer.toString(shmid))) {
        try {
          return Integer.parseInt(f[6]);
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  private static String readShm() {
    try {
      return Files.readString(SYSVIPC_SHM, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
