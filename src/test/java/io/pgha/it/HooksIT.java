package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code postgresql.pre_promote} and {@code postgresql.before_stop} on a real two-member cluster (ttl 10 s). A
 * switchover whose candidate's pre_promote exits 1: the candidate does not promote, gives the key back and sits out
 * the race for ttl, and the old primary takes the lead again. Once the script exits 0 (writing its marker) the same
 * switchover succeeds. before_stop runs while postgres still runs, both in the switchover's demotion and when the
 * agent is stopped.
 */
@Tag("integration")
class HooksIT {
  private static final String SCOPE = "hooks";
  private static final Duration WAIT = Duration.ofSeconds(60);

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void aFailingPrePromoteStopsTheSwitchoverAndBeforeStopRunsBeforeEveryStop() throws Exception {
    TestCluster cluster = clusters.start(SCOPE, 2, HooksIT::configure);
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    String candidate = cluster.awaitStreamingReplicas(1, Duration.ofSeconds(90)).get(0);
    Path dir = hooksDir(cluster);
    Path prePromoteLog = dir.resolve("pre_promote.log");
    Files.createFile(dir.resolve("fail-" + candidate));

    // 1. the candidate wins the key, its pre_promote exits 1: no promotion, the old primary leads again
    TestCluster.Answer first = cluster.request(candidate, "POST", "/switchover", switchover(leader, candidate));
    System.out.println("switchover with a failing pre_promote answered " + first.status() + " " + first.body());
    cluster.await(candidate + "'s pre_promote failed", WAIT, () -> lines(prePromoteLog).contains(candidate + " exit 1"));
    long failedAtNanos = System.nanoTime();
    cluster.await(leader + " leads again", WAIT, () -> cluster.leader().map(leader::equals).orElse(false)
        && cluster.patroniStatus(leader).map(s -> "primary".equals(s.path("role").asText())).orElse(false));
    assertThat(lines(prePromoteLog)).doesNotContain(candidate + " exit 0");
    cluster.awaitStreamingFrom(candidate, leader, WAIT);
    assertThat(cluster.sql(candidate, "SELECT pg_is_in_recovery() AS r").get(0).get("r")).isEqualTo(true);
    // the demotion of the old primary ran before_stop while its postgres still ran
    assertThat(lines(beforeStopLog(dir, leader))).isNotEmpty().allMatch(l -> l.endsWith(" running"));

    // 2. after the backoff (ttl 10 s), with pre_promote exiting 0, the same switchover succeeds
    long sinceMs = Duration.ofNanos(System.nanoTime() - failedAtNanos).toMillis();
    if (sinceMs < 12_000) Thread.sleep(12_000 - sinceMs);
    Files.delete(dir.resolve("fail-" + candidate));
    TestCluster.Answer second = cluster.request(candidate, "POST", "/switchover", switchover(leader, candidate));
    assertThat(second.status()).as(second.body()).isEqualTo(200);
    assertThat(cluster.awaitLeaderOtherThan(leader, WAIT)).isEqualTo(candidate);
    assertThat(lines(prePromoteLog)).containsSubsequence(candidate + " exit 1", candidate + " exit 0");
    cluster.awaitStreamingFrom(leader, candidate, WAIT);

    // 3. the old primary's agent stops (SIGTERM): before_stop runs once more, before postgres stops
    int before = lines(beforeStopLog(dir, leader)).size();
    long sigtermAtMs = System.currentTimeMillis();
    cluster.sigtermAgent(leader);
    assertThat(cluster.agent(leader).waitFor(WAIT)).isTrue();
    List<String> stops = lines(beforeStopLog(dir, leader));
    assertThat(stops).hasSize(before + 1);
    String last = stops.get(stops.size() - 1);
    assertThat(last).endsWith(" running");
    assertThat(Long.parseLong(last.substring(0, last.indexOf(' ')))).isBetween(sigtermAtMs - 1000,
        System.currentTimeMillis());
    assertThat(cluster.postmasterPid(leader)).isEmpty();
  }

  private static String switchover(String leader, String candidate) {
    return "{\"leader\":\"" + leader + "\",\"candidate\":\"" + candidate + "\"}";
  }

  private static Path hooksDir(TestCluster cluster) {
    return cluster.baseDir().resolve("hooks");
  }

  private static Path beforeStopLog(Path dir, String name) {
    return dir.resolve(name + " before_stop");
  }

  /**
   * pre_promote: exits 1 while {@code fail-<name>} exists, else 0; either way it appends {@code <name> exit <code>}
   * to {@code pre_promote.log}. before_stop: appends the time (epoch ms) and whether the postmaster still runs.
   */
  private static void configure(String name, ObjectNode yaml) {
    Path base = Path.of(yaml.path("postgresql").path("data_dir").asText()).getParent().getParent();
    Path dir = base.resolve("hooks");
    Path prePromote = dir.resolve("pre_promote.sh");
    Path beforeStop = dir.resolve("before_stop.sh");
    try {
      if (!Files.exists(prePromote)) {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(prePromote, """
            #!/bin/sh
            dir="$1"; name="$2"
            if [ -e "$dir/fail-$name" ]; then echo "$name exit 1" >> "$dir/pre_promote.log"; exit 1; fi
            echo "$name exit 0" >> "$dir/pre_promote.log"
            """, StandardCharsets.UTF_8);
        Files.writeString(beforeStop, """
            #!/bin/sh
            out="$1"; data="$2"
            pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
            state=stopped
            if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then state=running; fi
            echo "$(date +%s%3N) $state" >> "$out"
            """, StandardCharsets.UTF_8);
        for (Path script : List.of(prePromote, beforeStop)) {
          Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ObjectNode pg = (ObjectNode) yaml.path("postgresql");
    pg.put("pre_promote", prePromote + " '" + dir + "' " + name);
    pg.put("before_stop", beforeStop + " '" + beforeStopLog(dir, name) + "' '" + pg.path("data_dir").asText() + "'");
  }

  private static List<String> lines(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
