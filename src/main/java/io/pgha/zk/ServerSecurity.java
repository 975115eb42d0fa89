package io.pgha.zk;

import io.pgha.config.ZooKeeperSection;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * What {@code pgha zookeeper} adds for a secured server: TLS clients on {@code secureClientPort} (Netty, the server's
 * PEM key and certificate, optionally client certificates checked against a CA and turned into {@code x509}
 * identities) and a digest super user. Kept apart from {@link ZooKeeperServerSettings}' timing.
 *
 * @param tlsPort null: no TLS clients
 * @param plain false: no plain {@code clientPort} (TLS only)
 * @param keyStore PEM file with the server's private key and certificate chain (or a .p12/.jks store)
 * @param trustStore PEM file of the CAs client certificates must lead to; null: no client certificates
 * @param clientAuth {@code need}, {@code want} or {@code none}
 * @param superDigest {@code user:password} of a super user (any ACL), or null
 */
public record ServerSecurity(Integer tlsPort, boolean plain, Path keyStore, String keyStorePassword, Path trustStore,
    String clientAuth, String superDigest) {

  private static final Set<String> CLIENT_AUTH = Set.of("need", "want", "none");

  /** Plain clients only, no super user: ZooKeeper's defaults. */
  public static final ServerSecurity NONE = new ServerSecurity(null, true, null, null, null, "none", null);

  public ServerSecurity {
    if (tlsPort != null && keyStore == null) {
      throw new IllegalArgumentException("--tls-port needs --tls-keystore (the server's key and certificate)");
    }
    if (tlsPort == null && (keyStore != null || trustStore != null)) {
      throw new IllegalArgumentException("--tls-keystore and --tls-truststore need --tls-port");
    }
    if (!plain && tlsPort == null) throw new IllegalArgumentException("--tls-only needs --tls-port");
    if (!CLIENT_AUTH.contains(clientAuth)) {
      throw new IllegalArgumentException("--tls-client-auth must be need, want or none, got '" + clientAuth + "'");
    }
    if (!clientAuth.equals("none") && trustStore == null) {
      throw new IllegalArgumentException("--tls-client-auth " + clientAuth + " needs --tls-truststore (the CA of "
          + "client certificates)");
    }
    if (superDigest != null && superDigest.indexOf(':') <= 0) {
      throw new IllegalArgumentException("--super-digest must be user:password");
    }
  }

  /** The zoo.cfg lines; ZooKeeper turns the ones it does not know into {@code zookeeper.*} system properties. */
  public Properties properties() {
    Properties p = new Properties();
    if (tlsPort != null) {
      p.setProperty("secureClientPort", Integer.toString(tlsPort));
      p.setProperty("secureClientPortAddress", "127.0.0.1");
      p.setProperty("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory");
      p.setProperty("ssl.keyStore.location", keyStore.toAbsolutePath().toString());
      p.setProperty("ssl.keyStore.type", storeType(keyStore));
      if (keyStorePassword != null) p.setProperty("ssl.keyStore.password", keyStorePassword);
      if (trustStore != null) {
        p.setProperty("ssl.trustStore.location", trustStore.toAbsolutePath().toString());
        p.setProperty("ssl.trustStore.type", storeType(trustStore));
        // a client certificate's subject becomes the session's x509 identity (set_acls principals without scheme)
        p.setProperty("authProvider.x509", "org.apache.zookeeper.server.auth.X509AuthenticationProvider");
      }
      p.setProperty("ssl.clientAuth", clientAuth);
      // clients connect by address; certificates need not name it (as kazoo, Patroni's client, does not check)
      p.setProperty("ssl.hostnameVerification", "false");
    }
    if (superDigest != null) {
      int colon = superDigest.indexOf(':');
      p.setProperty("DigestAuthenticationProvider.superDigest",
          ZooKeeperSection.digestId(superDigest.substring(0, colon), superDigest.substring(colon + 1)));
    }
    return p;
  }

  private static String storeType(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".p12") || name.endsWith(".pfx")) return "PKCS12";
    if (name.endsWith(".jks")) return "JKS";
    return "PEM";
  }
}
