package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Expected words are what Python 3.11's {@code shlex.split} returns for the same line. */
class ShellWordsTest {

  static Stream<Arguments> lines() {
    return Stream.of(
        Arguments.of("/etc/cb.sh", List.of("/etc/cb.sh")),
        Arguments.of("  /usr/bin/cb   --flag  ", List.of("/usr/bin/cb", "--flag")),
        Arguments.of("cb 'a b' \"c d\"", List.of("cb", "a b", "c d")),
        Arguments.of("a\\ b c", List.of("a b", "c")),
        Arguments.of("x\"y z\"w", List.of("xy zw")),
        Arguments.of("a '' b", List.of("a", "", "b")),
        Arguments.of("\"a\\\"b\" \"a\\\\b\" \"a\\$b\"", List.of("a\"b", "a\\b", "a\\$b")),
        Arguments.of("'a\\b'", List.of("a\\b")),
        Arguments.of("a\\\\b", List.of("a\\b")),
        Arguments.of("python3 -c 'import sys; print(sys.argv)'", List.of("python3", "-c", "import sys; print(sys.argv)")),
        Arguments.of("\"\"", List.of("")),
        Arguments.of("a#b #c", List.of("a#b", "#c")),
        Arguments.of("$HOME/cb.sh *", List.of("$HOME/cb.sh", "*")),
        Arguments.of("", List.of()),
        Arguments.of("cb\ton_start", List.of("cb", "on_start")));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("lines")
  void splitsLikeShlex(String line, List<String> words) {
    assertThat(ShellWords.split(line)).containsExactlyElementsOf(words);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("broken")
  void refusesWhatShlexRefuses(String line, String message) {
    assertThatThrownBy(() -> ShellWords.split(line)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }

  static Stream<Arguments> broken() {
    return Stream.of(
        Arguments.of("'abc", "No closing quotation"),
        Arguments.of("\"abc", "No closing quotation"),
        Arguments.of("\"a\\\"", "No closing quotation"),
        Arguments.of("abc\\", "No escaped character"));
  }
}
