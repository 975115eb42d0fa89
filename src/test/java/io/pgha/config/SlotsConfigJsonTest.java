package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class SlotsConfigJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static SlotsConfig parse(String json) throws Exception {
    return SlotsConfigJson.parse(JSON.readTree(json));
  }

  @Test
  void readsPatronisKeys() throws Exception {
    SlotsConfig c = parse("{\"slots\":{\"archiver\":{\"type\":\"physical\"},\"bare\":null,"
        + "\"cdc\":{\"type\":\"logical\",\"database\":\"app\",\"plugin\":\"test_decoding\"},"
        + "\"implicit\":{\"database\":\"app\",\"plugin\":\"pgoutput\"}},"
        + "\"ignore_slots\":[{\"name\":\"ext\"},{\"type\":\"logical\",\"plugin\":\"wal2json\"}],"
        + "\"member_slots_ttl\":\"10min\"}");

    assertThat(c.permanent()).containsOnlyKeys("archiver", "bare", "cdc", "implicit");
    assertThat(c.permanent().get("bare").type()).isEqualTo("physical");
    assertThat(c.permanent().get("cdc")).isEqualTo(new SlotsConfig.Permanent("logical", "app", "test_decoding"));
    assertThat(c.permanent().get("implicit").logical()).isTrue();
    assertThat(c.ignore()).containsExactly(new SlotsConfig.Matcher("ext", null, null, null),
        new SlotsConfig.Matcher(null, "logical", null, "wal2json"));
    assertThat(c.memberSlotsTtlMs()).isEqualTo(600_000L);
    assertThat(c.errors()).isEmpty();
  }

  @Test
  void aliasesAndDefaults() throws Exception {
    assertThat(parse("{\"permanent_slots\":{\"a\":{}}}").permanent()).containsOnlyKeys("a");
    assertThat(parse("{\"permanent_replication_slots\":{\"b\":{}}}").permanent()).containsOnlyKeys("b");
    assertThat(parse("{}").memberSlotsTtlMs()).isEqualTo(30 * 60_000L);
    assertThat(parse("{\"member_slots_ttl\":0}").memberSlotsTtlMs()).isZero();
    assertThat(parse("{\"member_slots_ttl\":45}").memberSlotsTtlMs()).isEqualTo(45_000L);
    assertThat(parse("{\"member_slots_ttl\":\"2h\"}").memberSlotsTtlMs()).isEqualTo(7_200_000L);
  }

  @Test
  void badEntriesAreLeftOutWithOneLineEach() throws Exception {
    SlotsConfig c = parse("{\"slots\":{\"Bad-Name\":{},\"ok\":{},\"half\":{\"type\":\"logical\",\"database\":\"d\"},"
        + "\"weird\":7},\"ignore_slots\":[\"x\"],\"member_slots_ttl\":\"soon\"}");

    assertThat(c.permanent()).containsOnlyKeys("ok");
    assertThat(c.memberSlotsTtlMs()).isEqualTo(SlotsConfig.MEMBER_SLOTS_TTL_DEFAULT_MS);
    assertThat(c.errors()).hasSize(5).allSatisfy(e -> assertThat(e).doesNotContain("\n"));
    assertThat(parse("{\"slots\":[1]}").errors()).containsExactly("slots: not an object, ignored");
  }
}
