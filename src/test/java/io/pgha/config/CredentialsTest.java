package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CredentialsTest {
  private static String decoded(String header) {
    assertThat(header).startsWith("Basic ");
    return new String(Base64.getDecoder().decode(header.substring("Basic ".length())), StandardCharsets.UTF_8);
  }

  @Test
  void basicAuthorizationCarriesUserAndPasswordInUtf8() {
    assertThat(decoded(new Credentials("pätroni", "s3:cr=t").basicAuthorization())).isEqualTo("pätroni:s3:cr=t");
  }

  @Test
  void aMissingPasswordIsSentEmptyNotAsNull() {
    assertThat(decoded(new Credentials("admin", null).basicAuthorization())).isEqualTo("admin:");
  }

  @Test
  void ctlAuthTextIsSentAsItIs() {
    assertThat(decoded(Credentials.basicAuthorization("u:p"))).isEqualTo("u:p");
  }

  @Test
  void toStringHidesThePassword() {
    assertThat(new Credentials("u", "secret", Map.of("sslmode", "require")).toString()).doesNotContain("secret");
  }
}
