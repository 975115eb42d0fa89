package io.pgha.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The agents the tests and benchmarks start run with the JVM flags users get from bin/pgha. */
class JvmFlagsTest {

  @Test
  void binPghaGivesTheAgentTheSameJvmFlagsAsAgentProcess() throws Exception {
    String script = Files.readString(Path.of("bin/pgha"));
    String line = script.lines().filter(l -> l.startsWith("PGHA_JVM_FLAGS=")).findFirst().orElseThrow();
    List<String> flags = List.of(line.substring(line.indexOf('"') + 1, line.lastIndexOf('"')).split("\\s+"));

    assertThat(flags).containsExactlyElementsOf(AgentProcess.AGENT_JVM_FLAGS);
    List<String> comments = script.lines().filter(l -> l.startsWith("#   -")).toList();
    for (String flag : flags) {
      assertThat(comments).as("bin/pgha explains " + flag).anyMatch(l -> l.contains(flag.split("=")[0]));
    }
  }
}
