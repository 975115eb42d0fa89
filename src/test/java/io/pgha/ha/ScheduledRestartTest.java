package io.pgha.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.ha.ScheduledRestart.Due;
import io.pgha.decision.RestartRequest;
import org.junit.jupiter.api.Test;

class ScheduledRestartTest {
  private static final long AT = 1_795_000_000_000L;
  private static final long LOOP_WAIT_MS = 10_000;
  private static final String STARTED = "2026-11-24 05:00:00.123456+00:00";
  private final ScheduledRestart restart =
      new ScheduledRestart("2026-11-24T06:00:00+00:00", AT, new RestartRequest("replica", null, null, null, false),
          STARTED);

  private Due at(long nowMs) {
    return restart.check(nowMs, LOOP_WAIT_MS, false, false, STARTED);
  }

  @Test
  void runsWhenDueAndWithinItsWindow() {
    assertThat(at(AT - LOOP_WAIT_MS - 1)).isEqualTo(Due.WAIT);
    assertThat(at(AT - LOOP_WAIT_MS)).isEqualTo(Due.RUN);
    assertThat(at(AT)).isEqualTo(Due.RUN);
    assertThat(at(AT + 15_000)).isEqualTo(Due.RUN);
    assertThat(at(AT + 15_001)).isEqualTo(Due.STALE);
  }

  @Test
  void neverRunsInPause() {
    assertThat(restart.check(AT, LOOP_WAIT_MS, true, false, STARTED)).isEqualTo(Due.PAUSED);
    assertThat(restart.check(AT + 15_001, LOOP_WAIT_MS, true, false, STARTED)).isEqualTo(Due.STALE);
  }

  @Test
  void waitsForAnOperationInProgress() {
    assertThat(restart.check(AT, LOOP_WAIT_MS, false, true, STARTED)).isEqualTo(Due.WAIT);
  }

  @Test
  void aRestartMeanwhileServesIt() {
    assertThat(restart.check(AT, LOOP_WAIT_MS, false, false, "2026-11-24 05:30:00+00:00"))
        .isEqualTo(Due.ALREADY_RESTARTED);
    assertThat(restart.check(AT, LOOP_WAIT_MS, false, false, null)).as("postgres down: unknown").isEqualTo(Due.RUN);
  }

  @Test
  void memberKeyHasTheScheduleTheStartTimeAndTheConditions() {
    assertThat(restart.memberJson()).hasToString("{\"schedule\":\"2026-11-24T06:00:00+00:00\","
        + "\"postmaster_start_time\":\"" + STARTED + "\",\"role\":\"replica\"}");
    assertThat(new ScheduledRestart("s", AT, new RestartRequest(null, null, null, null, false), null).memberJson())
        .hasToString("{\"schedule\":\"s\"}");
  }
}
