package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code postgresql.pre_promote} and {@code postgresql.before_stop}: read as command lines, bad ones refused. */
class HookConfigTest {

  @TempDir Path dir;

  private PghaConfig load(String extra) throws Exception {
    Path file = dir.resolve("pgha.yml");
    Files.writeString(file, ConfigLoaderTest.MINIMAL + extra);
    return ConfigLoader.load(file, Map.of(), configured -> Path.of("/opt/fake-pg/bin"));
  }

  @Test
  void bothHooksAreReadAsWritten() throws Exception {
    PostgresqlConfig pg = load("""
          pre_promote: "/usr/local/bin/fence --vip '10.0.0.9'"
          before_stop: /usr/local/bin/drain
        """).postgresql();
    assertThat(pg.prePromote()).isEqualTo("/usr/local/bin/fence --vip '10.0.0.9'");
    assertThat(pg.beforeStop()).isEqualTo("/usr/local/bin/drain");
  }

  @Test
  void absentOrBlankHooksAreNotConfigured() throws Exception {
    assertThat(load("").postgresql().prePromote()).isNull();
    PostgresqlConfig blank = load("  pre_promote: '  '\n  before_stop: ''\n").postgresql();
    assertThat(blank.prePromote()).isNull();
    assertThat(blank.beforeStop()).isNull();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "pre_promote: \"/bin/fence 'unclosed\" | postgresql.pre_promote",
      "before_stop: [a, b]                  | postgresql.before_stop",
      "before_stop: {cmd: x}                | postgresql.before_stop"})
  void aBadHookIsAOneLineError(String line, String key) {
    assertThatThrownBy(() -> load("  " + line + "\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(key)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }
}
