package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class TimelineHistoryTest {
  /** pg_wal/00000003.history as TIMELINE_HISTORY returns it: TL 1 ended at 0/3000000, TL 2 at 0/4037560. */
  static final String TL3 = "1\t0/3000000\tno recovery target specified\n\n"
      + "2\t0/4037560\tno recovery target specified\n";

  @Test
  void parsesPostgresHistoryText() {
    assertThat(TimelineHistory.parse(TL3)).containsExactly(
        new TimelineHistory.Entry(1, 0x3000000L), new TimelineHistory.Entry(2, 0x4037560L));
  }

  @Test
  void skipsCommentsAndBlankLinesAndReadsHighLsnHalves() {
    assertThat(TimelineHistory.parse("# comment\n\n  4\t1A/FF000028\tbefore 2026-01-01\n"))
        .containsExactly(new TimelineHistory.Entry(4, (0x1AL << 32) | 0xFF000028L));
    assertThat(TimelineHistory.parse("")).isEmpty();
    assertThat(TimelineHistory.parse(null)).isEmpty();
  }

  @Test
  void rejectsGarbageNamingTheLine() {
    assertThatThrownBy(() -> TimelineHistory.parse("1\tnot-an-lsn\tx\n"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not-an-lsn");
    assertThatThrownBy(() -> TimelineHistory.parse("x\t0/1\n")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TimelineHistory.parse("2\n")).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "local TL {0} at {1}, leader TL {2}: rewind {3}")
  @CsvSource({
      // the case: TL 1 received past the fork of TL 2 at 0/4037560 (history of TL 3 knows it too)
      "1, 0/4037561, 3, true",
      "1, 0/3000001, 3, true",
      // exactly at or before the switch point: postgres follows the timeline switch by itself
      "1, 0/3000000, 3, false",
      "1, 0/2FFFFFF, 3, false",
      "2, 0/4037560, 3, false",
      "2, 0/4037561, 3, true",
      // the same timeline always streams
      "3, 0/9000000, 3, false",
      // a newer timeline than the leader's, or one its history does not know
      "4, 0/1000000, 3, true",
      "7, 0/1000000, 9, true",
      // unknown position or timeline: no verdict
      "0, 0/4037561, 3, false",
      "1, 0/0, 3, false",
  })
  void replicaMustRewindIffItsWalGoesPastTheSwitchPoint(int localTl, String lsn, int leaderTl, boolean expected) {
    List<TimelineHistory.Entry> history = TimelineHistory.parse(TL3);
    assertThat(TimelineHistory.replicaMustRewind(localTl, io.pgha.postgres.Lsn.parse(lsn), leaderTl, history))
        .isEqualTo(expected);
  }

  @Test
  void switchPointOfATimeline() {
    List<TimelineHistory.Entry> history = TimelineHistory.parse(TL3);
    assertThat(TimelineHistory.switchPoint(2, history)).isEqualTo(0x4037560L);
    assertThat(TimelineHistory.switchPoint(5, history)).isEqualTo(-1);
  }
}
