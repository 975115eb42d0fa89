package io.pgha.api;

import io.netty.util.NetUtil;
import io.pgha.config.Credentials;
import io.pgha.config.RestApiConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Access control of unsafe requests (§5.2), checked in Patroni's order: {@code restapi.allowlist} and
 * {@code allowlist_include_members} (403 {@code Access is denied}), a client certificate when TLS asks for one
 * (403 {@code client certificate required}), then {@code restapi.authentication} (401 with a Basic challenge).
 * GET, HEAD and OPTIONS are never checked here (with {@code verify_client: required} the TLS handshake already
 * demands a certificate of every request).
 *
 * <p>IP and CIDR entries are parsed once. Host names (in the allowlist, or members' {@code api_url} hosts) are
 * resolved on a worker thread when a request needs them, like Patroni does for members, so the list follows DNS.
 * Unlike Patroni, an allowlist whose entries all fail to parse or resolve denies every unsafe request instead of
 * allowing them all.
 */
final class AccessControl {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.api");

  /** Patroni's {@code @check_access} handlers (4.x): method and first path segment. */
  private static final Set<String> UNSAFE = Set.of(
      "PATCH config", "PUT config",
      "POST reload", "POST restart", "POST reinitialize", "POST switchover", "POST failover", "POST failsafe",
      "POST citus", "POST sigterm",
      "DELETE restart", "DELETE switchover");

  static final String ACCESS_DENIED = "Access is denied";
  static final String CERT_REQUIRED = "client certificate required";
  static final String NO_AUTH_HEADER = "no auth header received";
  static final String NOT_AUTHENTICATED = "not authenticated";
  static final String CHALLENGE = "Basic realm=\"Patroni\"";

  /** Why a request is refused; {@code challenge}: a 401 that carries {@code WWW-Authenticate}. */
  record Denial(int status, String message, boolean challenge) {}

  private final boolean allowlistConfigured;
  private final List<Network> allowNetworks = new ArrayList<>();
  private final List<String> allowHosts = new ArrayList<>();
  private final boolean includeMembers;
  private final Supplier<Set<String>> memberHosts;
  private final boolean clientCertRequired;
  private final byte[] authKey;

  AccessControl(RestApiConfig cfg, Supplier<Set<String>> memberHosts) {
    List<String> allowlist = cfg.allowlist() == null ? List.of() : cfg.allowlist();
    this.allowlistConfigured = !allowlist.isEmpty();
    for (String entry : allowlist) {
      String value = entry.trim();
      if (value.contains("/")) {
        Network network = Network.parse(value);
        if (network == null) {
          LOG.error("invalid value \"{}\" in restapi.allowlist: ignored", value);
        } else {
          allowNetworks.add(network);
        }
      } else {
        byte[] ip = ipLiteral(value);
        if (ip != null) {
          allowNetworks.add(new Network(ip, ip.length * 8));
        } else if (!value.isEmpty()) {
          allowHosts.add(value);
        }
      }
    }
    this.includeMembers = cfg.allowlistIncludeMembers();
    this.memberHosts = memberHosts == null ? Set::of : memberHosts;
    String verify = cfg.verifyClient() == null ? "" : cfg.verifyClient().toLowerCase(Locale.ROOT);
    this.clientCertRequired = cfg.certfile() != null && (verify.equals("optional") || verify.equals("required"));
    Credentials auth = cfg.authentication();
    this.authKey = auth == null ? null : Base64.getEncoder()
        .encode((auth.username() + ":" + auth.password()).getBytes(StandardCharsets.UTF_8));
  }

  static boolean isUnsafe(HttpMethod method, String firstSegment) {
    return UNSAFE.contains(method.name() + ' ' + firstSegment);
  }

  /**
   * @return null when the request may go on, else why not; completes at once unless host names must be resolved
   */
  Future<Denial> check(Vertx vertx, HttpServerRequest req, String firstSegment) {
    boolean checkMembers = includeMembers && !"failsafe".equals(firstSegment); // POST /failsafe: allowlist only
    if (!allowlistConfigured && !checkMembers) {
      return Future.succeededFuture(afterAllowlist(req));
    }
    byte[] client = clientIp(req);
    if (client == null) {
      return Future.succeededFuture(new Denial(403, ACCESS_DENIED, false));
    }
    List<String> hosts = new ArrayList<>(allowHosts);
    List<Network> networks = new ArrayList<>(allowNetworks);
    if (checkMembers) {
      for (String host : members()) {
        byte[] ip = ipLiteral(host);
        if (ip != null) {
          networks.add(new Network(ip, ip.length * 8));
        } else if (host != null && !host.isBlank()) {
          hosts.add(host.trim());
        }
      }
    }
    if (networks.stream().anyMatch(n -> n.contains(client))) {
      return Future.succeededFuture(afterAllowlist(req));
    }
    if (hosts.isEmpty()) {
      return Future.succeededFuture(new Denial(403, ACCESS_DENIED, false));
    }
    return vertx.executeBlocking(() -> resolvesTo(hosts, client), false)
        .map(allowed -> allowed ? afterAllowlist(req) : new Denial(403, ACCESS_DENIED, false));
  }

  /** The members' hosts; none when the supplier fails (the request is then judged by the allowlist alone). */
  private Set<String> members() {
    try {
      Set<String> hosts = memberHosts.get();
      return hosts == null ? Set.of() : hosts;
    } catch (RuntimeException e) {
      LOG.warn("cannot list the members' hosts for the REST API allowlist: {}", e.toString());
      return Set.of();
    }
  }

  /** Steps 2 and 3: the client certificate, then the Authorization header. */
  private Denial afterAllowlist(HttpServerRequest req) {
    if (clientCertRequired && !hasClientCertificate(req)) {
      return new Denial(403, CERT_REQUIRED, false);
    }
    if (authKey != null) {
      String header = req.getHeader("Authorization");
      if (header == null) {
        return new Denial(401, NO_AUTH_HEADER, true);
      }
      if (!header.startsWith("Basic ")
          || !MessageDigest.isEqual(authKey, header.substring(6).getBytes(StandardCharsets.UTF_8))) {
        return new Denial(401, NOT_AUTHENTICATED, true);
      }
    }
    return null;
  }

  private static boolean hasClientCertificate(HttpServerRequest req) {
    if (!req.isSSL()) {
      return false;
    }
    SSLSession session = req.connection().sslSession();
    if (session == null) {
      return false;
    }
    try {
      return session.getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  private static boolean resolvesTo(List<String> hosts, byte[] client) {
    for (String host : hosts) {
      try {
        for (InetAddress address : InetAddress.getAllByName(host)) {
          byte[] ip = normalize(address.getAddress());
          if (Arrays.equals(ip, client)) {
            return true;
          }
        }
      } catch (Exception e) {
        LOG.warn("cannot resolve {} for the REST API allowlist: {}", host, e.toString());
      }
    }
    return false;
  }

  private static byte[] clientIp(HttpServerRequest req) {
    if (req.remoteAddress() == null) {
      return null;
    }
    String host = req.remoteAddress().hostAddress();
    return host == null ? null : ipLiteral(host);
  }

  /** The address bytes of an IPv4/IPv6 literal ({@code [..]} and zone ids allowed), IPv4-mapped IPv6 as IPv4. */
  static byte[] ipLiteral(String text) {
    if (text == null) {
      return null;
    }
    String s = text.trim();
    if (s.startsWith("[") && s.endsWith("]")) {
      s = s.substring(1, s.length() - 1);
    }
    int zone = s.indexOf('%');
    if (zone >= 0) {
      s = s.substring(0, zone);
    }
    if (!NetUtil.isValidIpV4Address(s) && !NetUtil.isValidIpV6Address(s)) {
      return null;
    }
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(s);
    return bytes == null ? null : normalize(bytes);
  }

  private static byte[] normalize(byte[] ip) {
    if (ip.length == 16) {
      boolean mapped = ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
      for (int i = 0; i < 10 && mapped; i++) {
        mapped = ip[i] == 0;
      }
      if (mapped) {
        return Arrays.copyOfRange(ip, 12, 16);
      }
    }
    return ip;
  }

  /** The hosts of members' {@code api_url}s, for the {@code memberHosts} supplier of {@link ApiVerticle#secured}. */
  static Set<String> apiUrlHosts(Collection<String> apiUrls) {
    Set<String> hosts = new LinkedHashSet<>();
    for (String url : apiUrls) {
      if (url == null || url.isBlank()) {
        continue;
      }
      String rest = url.trim();
      int scheme = rest.indexOf("://");
      rest = scheme < 0 ? rest : rest.substring(scheme + 3);
      for (char c : new char[] {'/', '?', '#'}) {
        int i = rest.indexOf(c);
        rest = i < 0 ? rest : rest.substring(0, i);
      }
      rest = rest.substring(rest.lastIndexOf('@') + 1);
      String host;
      if (rest.startsWith("[")) {
        int close = rest.indexOf(']');
        host = close < 0 ? rest.substring(1) : rest.substring(1, close);
      } else {
        int colon = rest.indexOf(':');
        host = colon < 0 ? rest : rest.substring(0, colon);
      }
      if (!host.isEmpty()) {
        hosts.add(host.toLowerCase(Locale.ROOT));
      }
    }
    return hosts;
  }

  /** An IP network, as Python's {@code ip_network(value, strict=False)}. */
  record Network(byte[] address, int prefixLength) {
    static Network parse(String cidr) {
      int slash = cidr.indexOf('/');
      byte[] ip = ipLiteral(cidr.substring(0, slash));
      if (ip == null) {
        return null;
      }
      String mask = cidr.substring(slash + 1).trim();
      int bits;
      try {
        bits = Integer.parseInt(mask);
      } catch (NumberFormatException e) {
        byte[] netmask = ip.length == 4 ? ipLiteral(mask) : null;
        if (netmask == null || netmask.length != 4) {
          return null;
        }
        long value = ((netmask[0] & 0xffL) << 24) | ((netmask[1] & 0xffL) << 16) | ((netmask[2] & 0xffL) << 8)
            | (netmask[3] & 0xffL);
        bits = Long.bitCount(value);
        if (value != ((0xffffffffL << (32 - bits)) & 0xffffffffL)) {
          return null; // not a contiguous netmask
        }
      }
      if (bits < 0 || bits > ip.length * 8) {
        return null;
      }
      return new Network(ip, bits);
    }

    boolean contains(byte[] ip) {
      if (ip.length != address.length) {
        return false;
      }
      int full = prefixLength / 8;
      for (int i = 0; i < full; i++) {
        if (ip[i] != address[i]) {
          return false;
        }
      }
      int rest = prefixLength % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (ip[full] & mask) == (address[full] & mask);
    }
  }
}
