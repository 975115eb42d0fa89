package io.pgha.config;

/** A {@code host:port} pair; IPv6 hosts may be written in brackets. */
public record HostPort(String host, int port) {

  /** Parses {@code host:port}, {@code [v6]:port} or a bare host (then {@code defaultPort}). */
  public static HostPort parse(String text, int defaultPort) {
    if (text == null || text.isBlank()) throw new IllegalArgumentException("empty address");
    String s = text.trim();
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0) throw new IllegalArgumentException("unbalanced '[' in address " + text);
      String host = s.substring(1, close);
      String rest = s.substring(close + 1);
      return new HostPort(host, rest.startsWith(":") ? parsePort(rest.substring(1), text) : defaultPort);
    }
    int colon = s.lastIndexOf(':');
    if (colon < 0 || s.indexOf(':') != colon) {
      return new HostPort(s, defaultPort);
    }
    return new HostPort(s.substring(0, colon), parsePort(s.substring(colon + 1), text));
  }

  private static int parsePort(String port, String whole) {
    try {
      int p = Integer.parseInt(port.trim());
      if (p < 1 || p > 65535) throw new NumberFormatException();
      return p;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in address '" + whole + "'");
    }
  }

  public String toUrlAuthority() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
