package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.decision.ScheduledRestart.Due;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** §3.18: when a scheduled restart runs, waits, or is dropped; one row per case. */
class ScheduledRestartTest {
  private static final long AT = 1_795_000_000_000L;
  private static final long LOOP_WAIT_MS = 10_000;
  private static final String STARTED = "2026-11-24 05:00:00.123456+00:00";
  private static final String LATER = "2026-11-24 05:30:00+00:00";
  private final ScheduledRestart restart = new ScheduledRestart("2026-11-24T06:00:00+00:00", AT,
      new RestartRequest("replica", null, null, null, false), STARTED);

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', nullValues = "null", textBlock = """
      # case                                               | nowMinusAt | paused | busy  | startTimeNow | due
      more than loop_wait ahead                            | -10001     | false  | false | STARTED      | WAIT
      exactly loop_wait ahead                              | -10000     | false  | false | STARTED      | RUN
      at its time                                          | 0          | false  | false | STARTED      | RUN
      1.5 loop_wait late: still runs                       | 15000      | false  | false | STARTED      | RUN
      more than 1.5 loop_wait late: stale                  | 15001      | false  | false | STARTED      | STALE
      paused at its time: never in pause                   | 0          | true   | false | STARTED      | PAUSED
      paused past its window: stale                        | 15001      | true   | false | STARTED      | STALE
      a task in progress: wait for it                      | 0          | false  | true  | STARTED      | WAIT
      busy wins over stale                                 | 15001      | false  | true  | STARTED      | WAIT
      postgres restarted meanwhile                         | 0          | false  | false | LATER        | ALREADY_RESTARTED
      restarted meanwhile wins over stale and pause        | 15001      | true   | false | LATER        | ALREADY_RESTARTED
      postgres down: its start time unknown                | 0          | false  | false | null         | RUN
      """)
  void check(String name, long nowMinusAt, boolean paused, boolean busy, String startTimeNow, Due due) {
    String now = startTimeNow == null ? null : startTimeNow.equals("STARTED") ? STARTED : LATER;
    assertThat(restart.check(AT + nowMinusAt, LOOP_WAIT_MS, paused, busy, now)).isEqualTo(due);
  }

  @Test
  void scheduledWhilePostgresWasDownRunsWhateverItsStartTime() {
    ScheduledRestart r = new ScheduledRestart("s", AT, RestartRequest.NOW, null);
    assertThat(r.check(AT, LOOP_WAIT_MS, false, false, LATER)).isEqualTo(Due.RUN);
  }

  @Test
  void looksAgainWithinASecond() {
    assertThat(restart.recheckInMs(AT - 60_000)).isEqualTo(1000);
    assertThat(restart.recheckInMs(AT - 300)).isEqualTo(300);
    assertThat(restart.recheckInMs(AT + 5)).isEqualTo(1);
  }

  @Test
  void memberKeyHasTheScheduleTheStartTimeAndTheConditions() {
    Map<String, Object> expected = new LinkedHashMap<>();
    expected.put("schedule", "2026-11-24T06:00:00+00:00");
    expected.put("postmaster_start_time", STARTED);
    expected.put("role", "replica");
    assertThat(restart.memberFields()).containsExactlyEntriesOf(expected);
    assertThat(new ScheduledRestart("s", AT, RestartRequest.NOW, null).memberFields())
        .containsExactlyEntriesOf(Map.of("schedule", "s"));
  }

  @Test
  void memberKeyKeepsEveryConditionButNotTheScheduleTwice() {
    RestartRequest req = new RestartRequest("primary", "16.2", false, "2026-11-24T06:00:00+00:00", false, 60L);
    ScheduledRestart r = Operations.scheduled(req, null);
    assertThat(r.memberFields()).containsExactly(Map.entry("schedule", "2026-11-24T06:00:00+00:00"),
        Map.entry("role", "primary"), Map.entry("postgres_version", "16.2"), Map.entry("timeout", 60L),
        Map.entry("restart_pending", false));
    assertThat(r.conditions().schedule()).isNull();
    assertThat(r.atEpochMs()).isEqualTo(1_795_500_000_000L);
  }
}
