package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code zookeeper} section, as Patroni's {@code dcs/zookeeper.py} reads it into kazoo: {@code hosts}; with
 * {@code use_ssl}, {@code cacert}, {@code cert}, {@code key}, {@code key_password} and {@code verify};
 * {@code auth_data}
 * ({@code {scheme: credential}}, added to every session) and {@code set_acls} ({@code {principal: [permissions]}},
 * the ACL of every znode created; a principal without a {@code scheme:} prefix is an {@code x509} one).
 *
 * <p>Files are read here, so a missing certificate, an unreadable or undecryptable key, or a key that does not match
 * its certificate stops the agent at start with one line naming the key, instead of a TLS handshake failing later.
 */
public final class ZooKeeperSection {
  private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperSection.class);
  private static final int DEFAULT_ZOOKEEPER_PORT = 2181;
  private static final List<String> TLS_KEYS = List.of("cacert", "cert", "key", "key_password", "verify");
  /** A digest ACL id is {@code user:base64(sha1(user:password))}: 28 base64 characters. */
  private static final Pattern DIGEST_HASH = Pattern.compile("[A-Za-z0-9+/]{27}=");

  private ZooKeeperSection() {}

  /**
   * The {@code zookeeper} section of a whole configuration tree (file plus environment), for the tools that do not
   * load the rest (pghactl, the test launcher).
   */
  public static ZooKeeperConfig fromTree(JsonNode tree) throws ConfigException {
    return zookeeper(ConfigNode.root(tree).section("zookeeper"));
  }

  static ZooKeeperConfig zookeeper(ConfigNode zookeeper) throws ConfigException {
    ConfigNode hostsNode = zookeeper.get("hosts");
    List<String> hosts = new ArrayList<>();
    for (String host : ConfigLoader.commaList(hostsNode)) {
      try {
        hosts.add(HostPort.parse(host, DEFAULT_ZOOKEEPER_PORT).toUrlAuthority());
      } catch (IllegalArgumentException e) {
        throw hostsNode.error(e.getMessage());
      }
    }
    if (hosts.isEmpty()) throw hostsNode.error("required");
    ZooKeeperConfig.Tls tls = tls(zookeeper);
    List<ZooKeeperConfig.Auth> auth = authData(zookeeper.section("auth_data"));
    List<ZooKeeperConfig.Acl> acls = acls(zookeeper.section("set_acls"));
    ZooKeeperConfig config = new ZooKeeperConfig(hosts, tls, auth, acls);
    if (!acls.isEmpty() && !mayChangeOwnKeys(config)) {
      LOG.warn("zookeeper.set_acls gives none of this member's identities (auth_data digest, client certificate) "
          + "READ, WRITE, CREATE and DELETE: it will not be able to change the keys it creates");
    }
    return config;
  }

  /** Whether one of the identities the session will carry is granted everything an agent does to its keys. */
  static boolean mayChangeOwnKeys(ZooKeeperConfig config) throws ConfigException {
    List<String> identities = new ArrayList<>(List.of("world:anyone"));
    for (ZooKeeperConfig.Auth auth : config.authData()) {
      if (auth.scheme().equals("digest")) {
        int colon = auth.credential().indexOf(':');
        String credential = auth.credential();
        identities.add("digest:" + digestId(credential.substring(0, colon), credential.substring(colon + 1)));
      }
    }
    if (config.tls() != null && config.tls().cert() != null) {
      identities.add("x509:" + PemFiles.certificates("zookeeper.cert", config.tls().cert()).get(0)
          .getSubjectX500Principal().getName());
    }
    Set<ZooKeeperConfig.Permission> needed = EnumSet.of(ZooKeeperConfig.Permission.READ,
        ZooKeeperConfig.Permission.WRITE, ZooKeeperConfig.Permission.CREATE, ZooKeeperConfig.Permission.DELETE);
    for (ZooKeeperConfig.Acl acl : config.acls()) {
      boolean mine = identities.contains(acl.scheme() + ":" + acl.id());
      Set<ZooKeeperConfig.Permission> granted = acl.permissions();
      if (mine && (granted.contains(ZooKeeperConfig.Permission.ALL) || granted.containsAll(needed))) {
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // TLS

  private static ZooKeeperConfig.Tls tls(ConfigNode zookeeper) throws ConfigException {
    if (!zookeeper.get("use_ssl").boolOr(false)) {
      for (String key : TLS_KEYS) {
        if (zookeeper.get(key).isSet()) {
          LOG.info("zookeeper.use_ssl is off: ignoring zookeeper.{} (as Patroni does)", key);
        }
      }
      return null;
    }
    ConfigNode verify = zookeeper.get("verify");
    if (!verify.boolOr(true)) {
      throw verify.error("false is not supported: pgha always checks the servers' certificate; set "
          + "zookeeper.cacert to the CA that signed it");
    }
    Path cacert = path(zookeeper.get("cacert"));
    if (cacert != null) PemFiles.certificates("zookeeper.cacert", cacert);
    Path cert = path(zookeeper.get("cert"));
    Path key = path(zookeeper.get("key"));
    String password = zookeeper.get("key_password").text();
    if (cert == null && key != null) throw zookeeper.get("cert").error("required with zookeeper.key");
    if (cert != null) {
      if (key == null) {
        if (!PemFiles.hasPrivateKey(cert)) {
          throw zookeeper.get("key").error("required with zookeeper.cert (" + cert + " holds no private key)");
        }
        key = cert;
      }
      X509Certificate certificate = PemFiles.certificates("zookeeper.cert", cert).get(0);
      PrivateKey privateKey = PemFiles.privateKey("zookeeper.key", key, password);
      PemFiles.checkPair("zookeeper.key", key, privateKey, certificate);
    }
    return new ZooKeeperConfig.Tls(cacert, cert, key, password);
  }

  private static Path path(ConfigNode node) throws ConfigException {
    String text = node.text();
    if (text == null) return null;
    if (text.isBlank()) throw node.error("must be a file name, got nothing");
    return Path.of(text.trim());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // auth_data, set_acls

  private static List<ZooKeeperConfig.Auth> authData(ConfigNode section) throws ConfigException {
    List<ZooKeeperConfig.Auth> out = new ArrayList<>();
    if (!section.isSet()) return out;
    for (Iterator<String> it = section.json().fieldNames(); it.hasNext(); ) {
      String scheme = it.next();
      ConfigNode value = section.get(scheme);
      String credential = value.text();
      if (credential == null || credential.isEmpty()) throw value.error("required: the credential for " + scheme);
      if (scheme.equals("digest") && credential.indexOf(':') <= 0) {
        throw value.error("must be user:password");
      }
      out.add(new ZooKeeperConfig.Auth(scheme, credential));
    }
    return out;
  }

  private static List<ZooKeeperConfig.Acl> acls(ConfigNode section) throws ConfigException {
    List<ZooKeeperConfig.Acl> out = new ArrayList<>();
    if (!section.isSet()) return out;
    for (Iterator<Map.Entry<String, JsonNode>> it = section.json().fields(); it.hasNext(); ) {
      String principal = it.next().getKey();
      ConfigNode value = section.get(principal);
      int colon = principal.indexOf(':');
      String scheme = colon > 0 ? principal.substring(0, colon) : "x509";
      String id = colon > 0 ? principal.substring(colon + 1) : principal;
      if (id.isBlank()) throw value.error("no identity after the scheme in '" + principal + "'");
      if (scheme.equals("digest")) checkDigestId(value, id);
      Set<ZooKeeperConfig.Permission> permissions = EnumSet.noneOf(ZooKeeperConfig.Permission.class);
      for (String name : value.textList()) {
        try {
          permissions.add(ZooKeeperConfig.Permission.valueOf(name.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          throw value.error("unknown permission '" + name + "': use CREATE, READ, WRITE, DELETE, ADMIN or ALL");
        }
      }
      if (permissions.isEmpty()) {
        throw value.error("no permissions: list some of CREATE, READ, WRITE, DELETE, ADMIN, ALL");
      }
      out.add(new ZooKeeperConfig.Acl(scheme, id, permissions));
    }
    return out;
  }

  /** A digest ACL names {@code user:hash}; a plain password there is a common slip that locks everyone out. */
  private static void checkDigestId(ConfigNode value, String id) throws ConfigException {
    int colon = id.indexOf(':');
    if (colon <= 0) throw value.error("a digest identity is digest:USER:HASH, got 'digest:" + id + "'");
    if (!DIGEST_HASH.matcher(id.substring(colon + 1)).matches()) {
      throw value.error("'" + id.substring(colon + 1) + "' is not a digest hash: a digest identity is "
          + "digest:USER:base64(sha1(USER:PASSWORD)) (if that was the password: digest:"
          + digestId(id.substring(0, colon), id.substring(colon + 1)) + ")");
    }
  }

  /** ZooKeeper's digest identity for a user and password: {@code user:base64(sha1(user:password))}. */
  public static String digestId(String user, String password) {
    try {
      byte[] sha1 = MessageDigest.getInstance("SHA-1")
          .digest((user + ":" + password).getBytes(StandardCharsets.UTF_8));
      return user + ":" + Base64.getEncoder().encodeToString(sha1);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is missing from this JVM", e);
    }
  }
}
