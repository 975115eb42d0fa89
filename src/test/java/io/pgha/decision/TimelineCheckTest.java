package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TimelineCheckTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      # case                                                   | leaderTl | localTl | notStreamingMs | fromLeader | diverged | lastLeader | sameKey | sinceMs | due
      first look at a leader (agent start, new leader)         | 1        | 1       | -1             | false      | false    |            | false   | 0       | true
      new leader while still streaming from the old one        | 1        | 1       | -1             | false      | false    | m1         | false   | 100     | true
      healthy: streaming from the leader on its timeline       | 2        | 2       | -1             | true       | false    | m2         | false   | 100     | false
      streaming from the leader, its key already on TL 3       | 3        | 2       | -1             | true       | false    | m2         | false   | 100     | false
      leader's key on a newer timeline, not streaming yet      | 3        | 2       | 500            | false      | false    | m2         | false   | 100     | true
      not streaming for a moment only                          | 2        | 2       | 1999           | false      | false    | m2         | false   | 100     | false
      not streaming for 2 s                                    | 2        | 2       | 2000           | false      | false    | m2         | false   | 100     | true
      not streaming, same situation checked 1 s ago            | 2        | 2       | 9000           | false      | false    | m2         | true    | 1000    | false
      not streaming, same situation checked 5 s ago            | 2        | 2       | 9000           | false      | false    | m2         | true    | 5000    | true
      diverged: looked at again (the leader may change back)   | 2        | 1       | 9000           | false      | true     | m2         | true    | 5000    | true
      diverged yet streaming from the leader: look again       | 2        | 1       | -1             | true       | true     | m2         | false   | 100     | true
      """)
  void checksOnlyWhenDivergencePossible(String name, int leaderTl, int localTl, long notStreamingMs, boolean fromLeader,
      boolean diverged, String lastLeader, boolean sameKey, long sinceMs, boolean due) {
    TimelineCheck.Situation s = new TimelineCheck.Situation("m2", leaderTl, localTl, 0x5000000L, notStreamingMs,
        fromLeader, diverged);
    assertThat(TimelineCheck.due(s, lastLeader, sameKey ? s.key() : "other", sinceMs)).isEqualTo(due);
  }
}
