package io.pgha.postgres;

import java.util.Locale;

/** Replication slot name of a member (patroni-compat §10.4). */
public final class SlotNames {
  private SlotNames() {}

  public static String forMember(String member) {
    StringBuilder out = new StringBuilder();
    member.toLowerCase(Locale.ROOT).codePoints().forEach(c -> {
      if (c == '-' || c == '.') out.append('_');
      else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') out.appendCodePoint(c);
      else out.append('u').append(String.format("%04d", c));
    });
    return out.length() > 63 ? out.substring(0, 63) : out.toString();
  }
}
