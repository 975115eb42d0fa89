package io.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** patroni-compat §10.4, and Patroni's slot_name_from_member_name. */
class SlotNamesTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "pg-node-1, pg_node_1",
      "a.b, a_b",
      "PG-Node-1, pg_node_1",
      "postgresql0, postgresql0",
      "db_1, db_1",
      "a@b, au0064b",
      "a b, au0032b",
      "a+b, au0043b",
      "é, u0233",
      "中, u20013",
      "pg:1, pgu00581",
  })
  void memberNameToSlotName(String member, String slot) {
    assertThat(SlotNames.forMember(member)).isEqualTo(slot);
  }

  @Test
  void atSignIsEncodedAsItsDecimalCodePoint() {
    assertThat(SlotNames.forMember("@")).isEqualTo("u0064");
  }

  @Test
  void cutTo63Characters() {
    String name = "x".repeat(70);
    assertThat(SlotNames.forMember(name)).isEqualTo("x".repeat(63));
    assertThat(SlotNames.forMember("y".repeat(63))).hasSize(63);
    // the cut applies after the encoding, so it may split an encoded character
    assertThat(SlotNames.forMember("a".repeat(60) + "@")).isEqualTo("a".repeat(60) + "u00");
  }

  @Test
  void resultIsAValidSlotName() {
    for (String member : new String[] {"Node #1", "10.0.0.1", "ÄÖÜ-host", "a".repeat(100), "x@y.z"}) {
      assertThat(SlotNames.forMember(member)).matches("^[a-z0-9_]{1,63}$");
    }
  }

  @Test
  void charactersOutsideTheBmpUseTheirCodePoint() {
    assertThat(SlotNames.forMember("a\uD83D\uDE00")).isEqualTo("au128512");
  }
}
