package io.pgha.api;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a size in bytes the way Patroni's {@code parse_int(value, 'B')} does: an integer (decimal, {@code 0x} hex,
 * or {@code 0}-prefixed octal, as C {@code strtol} with base 0) or a decimal fraction, optionally followed by one of
 * the case-sensitive units {@code B}, {@code kB}, {@code MB}, {@code GB}, {@code TB} (powers of 1024). A fractional
 * value is rounded to a multiple of the next smaller unit, then to whole bytes, half to even as Python rounds.
 */
final class ByteSize {
  private static final Map<String, Long> UNITS =
      Map.of("B", 1L, "kB", 1L << 10, "MB", 1L << 20, "GB", 1L << 30, "TB", 1L << 40);
  private static final Pattern INTEGER = Pattern.compile("([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))(.*)",
      Pattern.DOTALL);
  private static final Pattern REAL = Pattern.compile("([+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(.*)",
      Pattern.DOTALL);

  private ByteSize() {}

  /** @return the size in bytes, or null if {@code text} is not a size (Patroni then applies no limit) */
  static Long parse(String text) {
    if (text == null) {
      return null;
    }
    String value = text.strip();
    BigDecimal number;
    String unit;
    Matcher integer = INTEGER.matcher(value);
    if (integer.matches() && !startsReal(integer.group(5))) {
      BigInteger magnitude = integer.group(2) != null ? new BigInteger(integer.group(2), 16)
          : integer.group(3) != null ? new BigInteger(integer.group(3), 8)
          : new BigInteger(integer.group(4));
      number = new BigDecimal("-".equals(integer.group(1)) ? magnitude.negate() : magnitude);
      unit = integer.group(5).strip();
    } else {
      Matcher real = REAL.matcher(value);
      if (!real.matches()) {
        return null;
      }
      number = new BigDecimal(real.group(1));
      unit = real.group(2).strip();
    }
    BigDecimal bytes;
    if (unit.isEmpty()) {
      bytes = number;
    } else {
      Long multiplier = UNITS.get(unit);
      if (multiplier == null) {
        return null;
      }
      bytes = number.multiply(BigDecimal.valueOf(multiplier));
      if (multiplier > 1) {
        BigDecimal step = BigDecimal.valueOf(multiplier / 1024);
        bytes = bytes.divide(step, 0, RoundingMode.HALF_EVEN).multiply(step);
      }
    }
    try {
      return bytes.setScale(0, RoundingMode.HALF_EVEN).longValueExact();
    } catch (ArithmeticException tooLarge) {
      return null;
    }
  }

  private static boolean startsReal(String rest) {
    return !rest.isEmpty() && (rest.charAt(0) == '.' || rest.charAt(0) == 'e' || rest.charAt(0) == 'E');
  }
}
