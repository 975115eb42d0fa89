package io.pgha.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.ConfigException;
import io.pgha.config.PghaConfig;
import io.pgha.guard.FencingGuard.Situation;
import io.pgha.guard.FencingGuard.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** When the HA loop arms, pushes and disarms the guard, and the deadline it gives it, with a fake channel. */
class FencingGuardTest {
  private static final long MY_PID = ProcessHandle.current().pid();

  private final List<String> sent = new ArrayList<>();
  private final List<Integer> gauge = new ArrayList<>();
  private long monotonic = 100_000;
  private long uptime = 5_000_000;
  private boolean channelUp = true;

  private final FencingGuard guard = new FencingGuard(line -> channelUp && sent.add(line),
      new FencingGuard.Clocks() {
        @Override public long monotonicMs() { return monotonic; }
        @Override public long uptimeMs() { return uptime; }
      }, gauge::add);

  /** A primary holding its key, confirmed {@code ago} ms ago, with a 10 s session. */
  private static Situation leading(long ago, long now) {
    return new Situation(false, true, MY_PID, false, false, now - ago, 10_000);
  }

  @Test
  void theDeadlineIsHalfASecondBeforeTheEarliestExpiryAndAfterTheAgentsOwnFence() {
    long confirmedAt = 50_000;
    assertThat(FencingGuard.remainingMs(confirmedAt, 10_000, 50_000)).isEqualTo(9_500);
    assertThat(FencingGuard.remainingMs(confirmedAt, 10_000, 59_000)).isEqualTo(500);
    assertThat(FencingGuard.remainingMs(confirmedAt, 10_000, 60_000)).isEqualTo(-500);
    long agentFenceEscalatesAt = confirmedAt + 10_000 - 1000; // HaCore.fenceWhenDcsLost
    long guardFiresAt = confirmedAt + 10_000 - FencingGuard.GUARD_MARGIN_MS;
    assertThat(guardFiresAt).isGreaterThan(agentFenceEscalatesAt).isLessThan(confirmedAt + 10_000);
  }

  /**
   * Failsafe (§10.2): an all-accepted round's cover (its send time + ttl) counts like the session's bound, the later
   * of the two, with the same margin; with the key gone it still pushes, and nothing else moves the deadline.
   */
  @Test
  void failsafeCoverMovesTheDeadlineOnlyToItsOwnEnd() {
    long confirmedAt = 50_000;
    Situation sessionOnly = new Situation(false, true, MY_PID, false, false, confirmedAt, 10_000, 0);
    Situation covered = new Situation(false, false, MY_PID, false, false, confirmedAt, 10_000, 75_000);
    Situation olderCover = new Situation(false, true, MY_PID, false, false, confirmedAt, 10_000, 55_000);
    assertThat(FencingGuard.remainingMs(sessionOnly, 60_000)).isEqualTo(-500);
    assertThat(FencingGuard.remainingMs(covered, 60_000)).isEqualTo(14_500);
    assertThat(FencingGuard.remainingMs(olderCover, 50_000)).isEqualTo(9_500);
    assertThat(FencingGuard.step(covered)).as("key gone, cover runs").isEqualTo(Step.PUSH);
    assertThat(FencingGuard.step(new Situation(false, false, MY_PID, false, false, confirmedAt, 10_000, 0)))
        .isEqualTo(Step.KEEP);
    assertThat(FencingGuard.step(new Situation(false, false, MY_PID, true, false, confirmedAt, 10_000, 75_000)))
        .as("a replica is never armed").isEqualTo(Step.DISARM);
  }

  @Test
  void pushesWhileLeadingAMeasuredFromTheLastProofNotFromNow() {
    assertThat(guard.update(leading(300, monotonic), "confirmed")).isEqualTo(Step.PUSH);
    long start = FencingGuard.startTimeOf(MY_PID);
    assertThat(sent).containsExactly("arm 9200 " + MY_PID + " " + start + " " + uptime);
    assertThat(guard.armed()).isTrue();
    assertThat(gauge).last().isEqualTo(1);
    // a push on a stale view (no new proof) keeps counting down from the same proof
    monotonic += 4_000;
    uptime += 4_000;
    guard.update(new Situation(false, true, MY_PID, false, false, 100_000 - 300, 10_000), "cycle");
    assertThat(sent).last().isEqualTo("arm 5200 " + MY_PID + " " + start + " " + uptime);
  }

  @Test
  void anOverdueProofArmsWithNothingLeft() {
    guard.update(leading(12_000, monotonic), "late");
    assertThat(sent).singleElement().asString().startsWith("arm 0 ");
  }

  @Test
  void armsDuringAPromotionAndNotForAReplica() {
    Situation replicaHoldingKey = new Situation(false, true, MY_PID, true, false, monotonic, 10_000);
    assertThat(guard.update(replicaHoldingKey, "key taken")).isEqualTo(Step.DISARM);
    assertThat(sent).isEmpty();
    Situation promoting = new Situation(false, true, MY_PID, true, true, monotonic, 10_000);
    assertThat(guard.update(promoting, "promoting")).isEqualTo(Step.PUSH);
    assertThat(sent).singleElement().asString().startsWith("arm 9500 ");
  }

  @Test
  void disarmsWhenPostgresStopsOrInPauseOrAsAReplica() {
    guard.update(leading(0, monotonic), "confirmed");
    assertThat(guard.update(new Situation(false, true, 0, null, false, monotonic, 10_000), "stopped"))
        .isEqualTo(Step.DISARM);
    assertThat(sent).last().isEqualTo("disarm");
    assertThat(guard.armed()).isFalse();
    assertThat(gauge).last().isEqualTo(0);

    guard.update(leading(0, monotonic), "confirmed");
    assertThat(guard.update(new Situation(true, true, MY_PID, false, false, monotonic, 10_000), "pause"))
        .isEqualTo(Step.DISARM);
    assertThat(sent).last().isEqualTo("disarm");

    guard.update(leading(0, monotonic), "confirmed");
    assertThat(guard.update(new Situation(false, false, MY_PID, true, false, monotonic, 10_000), "demoted"))
        .isEqualTo(Step.DISARM);
    assertThat(sent).last().isEqualTo("disarm");
  }

  @Test
  void aPrimaryThatLostItsKeyKeepsItsLastDeadline() {
    guard.update(leading(0, monotonic), "confirmed");
    int before = sent.size();
    assertThat(guard.update(new Situation(false, false, MY_PID, false, false, monotonic, 10_000), "key lost"))
        .isEqualTo(Step.KEEP);
    assertThat(guard.update(new Situation(false, true, MY_PID, null, false, 0, 10_000), "never confirmed"))
        .isEqualTo(Step.KEEP);
    assertThat(sent).hasSize(before);
    assertThat(guard.armed()).isTrue();
  }

  @Test
  void disarmingTwiceSendsOnceAndAGoneGuardIsNotArmed() {
    guard.disarm("nothing armed");
    assertThat(sent).isEmpty();
    channelUp = false;
    guard.update(leading(0, monotonic), "confirmed");
    assertThat(guard.armed()).as("no guard took the line").isFalse();
    channelUp = true;
    guard.update(leading(0, monotonic), "confirmed");
    assertThat(guard.armed()).isTrue();
    guard.guardRestarted();
    assertThat(guard.armed()).isFalse();
  }

  @Test
  void aPostmasterThatIsGoneIsNotArmed() {
    long gone = 999_999_999L;
    guard.update(new Situation(false, true, gone, false, false, monotonic, 10_000), "confirmed");
    assertThat(sent).isEmpty();
  }

  @Test
  void settingsFromYamlAndEnvironment() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode tree = (ObjectNode) json.readTree("""
        {"scope": "s", "name": "m1", "zookeeper": {"hosts": "127.0.0.1:2181"},
         "restapi": {"listen": "127.0.0.1:8008", "connect_address": "127.0.0.1:8008"},
         "postgresql": {"data_dir": "/tmp/pgha-guard-test/data", "listen": "127.0.0.1:5432",
                        "connect_address": "127.0.0.1:5432"}}""");
    PghaConfig base = io.pgha.config.ConfigLoader.fromTree(tree, configured -> java.nio.file.Path.of("/opt/fake"));
    GuardSettings defaults = GuardSettings.from(base, Map.of());
    assertThat(defaults.enabled()).isTrue();
    assertThat(defaults.watchdogMode()).isEqualTo(GuardSettings.WatchdogMode.AUTOMATIC);
    assertThat(defaults.watchdogTimeoutSeconds(30)).isEqualTo(25);
    assertThat(GuardSettings.from(base, Map.of(GuardSettings.ENV, "false")).enabled()).isFalse();
    assertThatThrownBy(() -> GuardSettings.from(base, Map.of(GuardSettings.ENV, "maybe")))
        .isInstanceOf(ConfigException.class).hasMessageContaining(GuardSettings.ENV);

    ObjectNode raw = base.raw().deepCopy();
    raw.putObject("pgha").put("fencing_guard", false).put("runtime_dir", "/tmp/rt");
    raw.putObject("watchdog").put("mode", "off").put("safety_margin", -1);
    GuardSettings off = GuardSettings.from(withRaw(base, raw), Map.of());
    assertThat(off.enabled()).isFalse();
    assertThat(off.runtimeDir()).hasToString("/tmp/rt");
    assertThat(off.watchdogMode()).isEqualTo(GuardSettings.WatchdogMode.OFF);
    assertThat(off.watchdogTimeoutSeconds(30)).isEqualTo(15);

    raw.putObject("watchdog").put("mode", "off");
    raw.remove("pgha");
    assertThat(GuardSettings.from(withRaw(base, raw), Map.of()).enabled())
        .as("watchdog.mode off does not turn the guard off").isTrue();
    raw.putObject("watchdog").put("mode", "sometimes");
    assertThatThrownBy(() -> GuardSettings.from(withRaw(base, raw), Map.of()))
        .hasMessageContaining("watchdog.mode");
  }

  @Test
  void ttlBelowSevenIsRefusedWhenTheGuardIsOff() throws Exception {
    ObjectNode tree = (ObjectNode) new ObjectMapper().readTree("""
        {"scope": "s", "name": "m1", "zookeeper": {"hosts": "127.0.0.1:1"},
         "restapi": {"listen": "127.0.0.1:8008", "connect_address": "127.0.0.1:8008"},
         "bootstrap": {"dcs": {"ttl": 5, "loop_wait": 1, "retry_timeout": 2}},
         "postgresql": {"data_dir": "/tmp/pgha-guard-test/data", "listen": "127.0.0.1:5432",
                        "connect_address": "127.0.0.1:5432"}}""");
    PghaConfig ttl5 = io.pgha.config.ConfigLoader.fromTree(tree, configured -> java.nio.file.Path.of("/opt/fake"));

    assertThat(GuardSettings.from(ttl5, Map.of()).enabled()).isTrue();
    assertThatThrownBy(() -> GuardSettings.from(ttl5, Map.of(GuardSettings.ENV, "false")))
        .isInstanceOf(ConfigException.class).hasMessage("bootstrap.dcs.ttl: 5 is safe only with the fencing guard,"
            + " which pgha.fencing_guard / PGHA_FENCING_GUARD switches off: turn it on, or set ttl to at least 7");
    ((ObjectNode) tree.path("bootstrap").path("dcs")).put("ttl", 7);
    PghaConfig ttl7 = io.pgha.config.ConfigLoader.fromTree(tree, configured -> java.nio.file.Path.of("/opt/fake"));
    assertThat(GuardSettings.from(ttl7, Map.of(GuardSettings.ENV, "false")).enabled()).isFalse();
  }

  @Test
  void uptimeIsReadFromTheKeptOpenFileAsTheGuardReadsIt() throws Exception {
    java.nio.charset.Charset ascii = java.nio.charset.StandardCharsets.US_ASCII;
    assertThat(FencingGuard.parseUptimeMs(java.nio.ByteBuffer.wrap("45779.04 32171.05\n".getBytes(ascii))))
        .isEqualTo(45_779_040L); // 45779.04 s
    for (String bad : List.of("", "45779.4 1", "x.00", "45779 1", "1.2.3")) {
      assertThatThrownBy(() -> FencingGuard.parseUptimeMs(java.nio.ByteBuffer.wrap(bad.getBytes(ascii))))
          .as(bad).isInstanceOf(IllegalArgumentException.class);
    }
    for (int i = 0; i < 3; i++) { // again and again from the same open file: each read is fresh
      String up = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/uptime"), ascii).split(" ")[0];
      long before = Long.parseLong(up.replace(".", "")) * 10;
      long read = FencingGuard.procUptimeMs();
      assertThat(read).isBetween(before, before + 2_000);
      Thread.sleep(30);
    }
  }

  private static PghaConfig withRaw(PghaConfig c, ObjectNode raw) {
    return new PghaConfig(c.scope(), c.namespace(), c.name(), c.restapi(), c.zookeeper(), c.bootstrap(),
        c.postgresql(), c.tags(), raw);
  }
}
