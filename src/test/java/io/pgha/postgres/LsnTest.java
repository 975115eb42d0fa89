package io.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

class LsnTest {

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource({
      "0/0, 0",
      "0/1, 1",
      "0/17414F8, 24384760",
      "0/40C5E78, 67919480",
      "1/0, 4294967296",
      "16/B374D848, 97500059720",
      "FFFFFFFF/FFFFFFFF, -1",
  })
  void parsesAndFormats(String text, long position) {
    assertThat(Lsn.parse(text)).isEqualTo(position);
    assertThat(Lsn.format(position)).isEqualTo(text);
  }

  @Test
  void sixteenSlashB374D848IsTheAbsolutePositionPatroniPublishes() {
    assertThat(Lsn.parse("16/B374D848")).isEqualTo((0x16L << 32) | 0xB374D848L);
  }

  @Test
  void lowerCaseAndBlanksAreAccepted() {
    assertThat(Lsn.parse("16/b374d848")).isEqualTo(Lsn.parse("16/B374D848"));
    assertThat(Lsn.parse(" 16 / B374D848 ")).isEqualTo(Lsn.parse("16/B374D848"));
  }

  @Test
  void formatHasNoLeadingZeros() {
    assertThat(Lsn.format(0x0000_0001_0000_00FFL)).isEqualTo("1/FF");
  }

  @ParameterizedTest(name = "garbage {0}")
  @NullSource
  @ValueSource(strings = {"", "/", "0", "12345", "x/y", "1/2/3", "G/0", "0/-"})
  void garbageIsZero(String text) {
    assertThat(Lsn.parse(text)).isZero();
  }

  @Test
  void roundTripsRandomPositions() {
    Random random = new Random(20240503);
    for (int i = 0; i < 10_000; i++) {
      long lsn = random.nextLong();
      assertThat(Lsn.parse(Lsn.format(lsn))).as("lsn %d", lsn).isEqualTo(lsn);
    }
  }
}
