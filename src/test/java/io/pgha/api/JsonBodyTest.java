package io.pgha.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/** Body parsing as Patroni's _read_json_content (§5.1), for required and optional bodies. */
class JsonBodyTest {

  @Test
  void requiredBodiesMustBeNonEmptyObjects() {
    assertThat(JsonBody.parse(Buffer.buffer("{\"a\":[1,{\"b\":null}]}"), false).toString())
        .isEqualTo("{\"a\":[1,{\"b\":null}]}");
    assertRejected("{}", false, 400, "Bad Request: the body is an empty JSON object");
    assertRejected("  ", false, 400, "Bad Request: the body is empty, a JSON object is expected");
    assertRejected("null", false, 400, "Bad Request: the body must be a JSON object, got null");
    assertRejected("12", false, 400, "Bad Request: the body must be a JSON object, got a number");
    assertRejected("{\"a\":1}{\"b\":2}", false, 400, null);
    assertRejected("{'a':1}", false, 400, null);
  }

  @Test
  void optionalBodiesMayBeEmptyObjects() {
    assertThat(JsonBody.parse(Buffer.buffer("{}"), true).isEmpty()).isTrue();
    assertRejected("[]", true, 400, "Bad Request: the body must be a JSON object, got an array");
  }

  @Test
  void oversizedBodiesAre413() {
    assertRejected("{\"a\":\"" + "x".repeat(JsonBody.MAX_BYTES) + "\"}", false, 413,
        "Payload Too Large: at most 65536 bytes are accepted");
  }

  private static void assertRejected(String body, boolean optional, int status, String message) {
    assertThatThrownBy(() -> JsonBody.parse(Buffer.buffer(body), optional))
        .isInstanceOfSatisfying(RequestRejected.class, e -> {
          assertThat(e.status()).isEqualTo(status);
          assertThat(e.getMessage()).doesNotContain("\n");
          if (message != null) {
            assertThat(e.getMessage()).isEqualTo(message);
          }
        });
  }
}
