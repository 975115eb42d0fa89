package io.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.config.ShellWords;
import java.util.List;
import org.junit.jupiter.api.Test;

/** bootstrap.post_bootstrap is split by the same code as the callbacks ({@link ShellWords}), then gets the DSN. */
class PostBootstrapCommandTest {
  @Test
  void aQuotedArgumentStaysOneWord() {
    assertThat(PostgresSupervisor.postBootstrapCommand("psql -w -c \"SELECT 1\"", "host=/run/pg port=5432"))
        .containsExactly("psql", "-w", "-c", "SELECT 1", "host=/run/pg port=5432");
  }

  @Test
  void singleQuotesAndEscapesAsAPosixShell() {
    assertThat(PostgresSupervisor.postBootstrapCommand(" /opt/setup\\ db.sh 'a  b' x\"y z\" ", "dsn"))
        .isEqualTo(List.of("/opt/setup db.sh", "a  b", "xy z", "dsn"));
  }
}
