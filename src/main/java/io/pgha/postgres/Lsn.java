package io.pgha.postgres;

/** WAL positions: PostgreSQL's {@code X/Y} text and the absolute byte position Patroni publishes. */
public final class Lsn {
  private Lsn() {}

  public static long parse(String text) {
    if (text == null) return 0;
    int slash = text.indexOf('/');
    if (slash < 0) return 0;
    try {
      return (Long.parseLong(text.substring(0, slash).trim(), 16) << 32)
          | Long.parseLong(text.substring(slash + 1).trim(), 16);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  public static String format(long lsn) {
    return String.format("%X/%X", lsn >>> 32, lsn & 0xFFFFFFFFL);
  }
}
