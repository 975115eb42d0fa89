package io.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrphanedBackendsTest {
  private static final String SHM = """
             key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
         2539524    2195521   600                    56 27220 27302      2   101   104   101   104 1796483914 1796483914 1796483905                  4096                     0
         2376375    1736708   600                    56 28780 28782      0   101   104   101   104 1796490487 1796490487 1796490483                  4096                     0
      """;

  @Test
  void countsTheProcessesStillAttachedToTheSegment() {
    assertThat(OrphanedBackends.attached(SHM, 2195521)).isEqualTo(2);
    assertThat(OrphanedBackends.attached(SHM, 1736708)).isZero();
    assertThat(OrphanedBackends.attached(SHM, 42)).as("segment gone").isZero();
  }

  @Test
  void readsTheSegmentFromLineSevenOfPostmasterPid(@TempDir Path dir) throws Exception {
    Path pid = dir.resolve("postmaster.pid");
    Files.writeString(pid, "27220\n/data\n1796483905\n5432\n/tmp\n127.0.0.1\n  2539524   2195521\nready   \n");
    assertThat(OrphanedBackends.shmid(pid)).hasValue(2195521);
    Files.writeString(pid, "27220\n/data\n");
    assertThat(OrphanedBackends.shmid(pid)).isEmpty();
    assertThat(OrphanedBackends.shmid(dir.resolve("absent"))).isEmpty();
  }

  @Test
  void doesNotWaitWithoutAPostmasterPid(@TempDir Path dir) throws Exception {
    assertThat(OrphanedBackends.awaitDetached(dir)).isZero();
  }
}
