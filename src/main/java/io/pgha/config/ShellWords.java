package io.pgha.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command line into words as Python's {@code shlex.split} does (POSIX mode, no comments), which is how
 * Patroni turns {@code postgresql.callbacks} and {@code bootstrap.post_bootstrap} into an argument list: no shell
 * runs, so {@code $VAR}, globs, pipes and redirections are plain text.
 *
 * <ul>
 *   <li>blanks separate words; {@code '...'} keeps everything literally;
 *   <li>{@code "..."} keeps everything except that a backslash escapes {@code "} and {@code \};
 *   <li>outside quotes a backslash escapes any character;
 *   <li>quoted and unquoted parts next to each other form one word; {@code ''} is an empty word.
 * </ul>
 */
public final class ShellWords {
  private ShellWords() {}

  /** @throws IllegalArgumentException on an unclosed quote or a trailing backslash, as shlex raises ValueError */
  public static List<String> split(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    int i = 0;
    int n = line.length();
    while (i < n) {
      char c = line.charAt(i);
      if (" \t\r\n".indexOf(c) >= 0) {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
        i++;
      } else if (c == '\'') {
        int end = line.indexOf('\'', i + 1);
        if (end < 0) throw new IllegalArgumentException("No closing quotation: " + line);
        word.append(line, i + 1, end);
        inWord = true;
        i = end + 1;
      } else if (c == '"') {
        i = doubleQuoted(line, i + 1, word);
        inWord = true;
      } else if (c == '\\') {
        if (i + 1 >= n) throw new IllegalArgumentException("No escaped character: " + line);
        word.append(line.charAt(i + 1));
        inWord = true;
        i += 2;
      } else {
        word.append(c);
        inWord = true;
        i++;
      }
    }
    if (inWord) words.add(word.toString());
    return words;
  }

  /** Appends the contents of a double-quoted part starting at {@code from}; returns the index after its end. */
  private static int doubleQuoted(String line, int from, StringBuilder word) {
    int i = from;
    while (i < line.length()) {
      char c = line.charAt(i);
      if (c == '"') return i + 1;
      if (c == '\\' && i + 1 < line.length() && (line.charAt(i + 1) == '"' || line.charAt(i + 1) == '\\')) {
        word.append(line.charAt(i + 1));
        i += 2;
      } else {
        word.append(c);
        i++;
      }
    }
    throw new IllegalArgumentException("No closing quotation: " + line);
  }
}
