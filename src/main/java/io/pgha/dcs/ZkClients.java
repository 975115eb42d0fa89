package io.pgha.dcs;

import io.pgha.config.ConfigException;
import io.pgha.config.HostPort;
import io.pgha.config.PemFiles;
import io.pgha.config.ZooKeeperConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.apache.curator.framework.AuthInfo;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;

/**
 * The connection settings of every ZooKeeper client pgha opens (the agent's sessions, the REST API's client, the
 * event stream, pghactl, the test launcher), built from the {@code zookeeper} section so that they all connect
 * alike: TLS through ZooKeeper's Netty client, the {@code auth_data} credentials on every session, and the
 * {@code set_acls} ACL on every znode created (parents included).
 *
 * <p>ZooKeeper's client reads its key from one key store file, while Patroni names a certificate and a key file: the
 * pair is put into a PKCS#12 store under a random password, in a directory only this user can read, deleted at exit.
 */
public final class ZkClients {
  /** Cert and key file pair to the key store made from them, so that reconnecting clients share one file. */
  private static final Map<List<Path>, KeyStoreFile> KEY_STORES = new ConcurrentHashMap<>();

  private record KeyStoreFile(Path path, String password) {}

  /**
   * Netty 4.2 (brought by Vert.x) makes every client context it builds check the server's host name, which
   * ZooKeeper's client (written for Netty 4.1) does not expect: with a {@code cacert}, Patroni's client does not
   * compare names. This JVM-wide default reaches only contexts that do not choose for themselves: Vert.x sets the
   * algorithm on each of its connections, and ZooKeeper's client sets it when it should check (no {@code cacert}).
   * Read once, when Netty's TLS classes load: {@link #prepareJvm} runs first thing in {@code Main}.
   */
  static final String NETTY_ENDPOINT_DEFAULT = "io.netty.handler.ssl.defaultEndpointVerificationAlgorithm";

  static {
    prepareJvm();
  }

  private ZkClients() {}

  /** Sets Netty's default endpoint check to NONE unless the user chose one (see {@link #NETTY_ENDPOINT_DEFAULT}). */
  public static void prepareJvm() {
    if (System.getProperty(NETTY_ENDPOINT_DEFAULT) == null) System.setProperty(NETTY_ENDPOINT_DEFAULT, "NONE");
  }

  /** A Curator builder with the hosts, TLS, credentials and ACLs of {@code config}; the caller adds its timeouts. */
  public static CuratorFrameworkFactory.Builder builder(ZooKeeperConfig config) {
    CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
        .connectString(config.connectString())
        .zkClientConfig(clientConfig(config));
    List<AuthInfo> auth = new ArrayList<>();
    for (ZooKeeperConfig.Auth a : config.authData()) {
      auth.add(new AuthInfo(a.scheme(), a.credential().getBytes(StandardCharsets.UTF_8)));
    }
    if (!auth.isEmpty()) builder.authorization(auth);
    if (!config.acls().isEmpty()) builder.aclProvider(aclProvider(config.acls()));
    return builder;
  }

  /** The ZooKeeper client properties: plain NIO without TLS; with it, Netty and the key and trust stores. */
  public static ZKClientConfig clientConfig(ZooKeeperConfig config) {
    ZKClientConfig client = new ZKClientConfig();
    ZooKeeperConfig.Tls tls = config.tls();
    if (tls == null) return client;
    client.setProperty(ZKClientConfig.SECURE_CLIENT, "true");
    client.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, "org.apache.zookeeper.ClientCnxnSocketNetty");
    if (tls.cacert() != null) {
      client.setProperty("zookeeper.ssl.trustStore.location", tls.cacert().toString());
      client.setProperty("zookeeper.ssl.trustStore.type", "PEM");
      // as kazoo (Patroni): the chain must lead to cacert, the host name is not compared with the certificate
      client.setProperty("zookeeper.ssl.hostnameVerification", "false");
    } else {
      // the JVM's trusted CAs vouch for any public name: then the name must be the server's
      client.setProperty("zookeeper.ssl.hostnameVerification", "true");
    }
    if (tls.cert() != null) {
      KeyStoreFile store = KEY_STORES.computeIfAbsent(List.of(tls.cert(), tls.key()), k -> keyStore(tls));
      client.setProperty("zookeeper.ssl.keyStore.location", store.path().toString());
      client.setProperty("zookeeper.ssl.keyStore.password", store.password());
      client.setProperty("zookeeper.ssl.keyStore.type", "PKCS12");
    }
    return client;
  }

  /** The {@code set_acls} entries as ZooKeeper ACLs. */
  public static List<ACL> acls(List<ZooKeeperConfig.Acl> entries) {
    List<ACL> out = new ArrayList<>();
    for (ZooKeeperConfig.Acl entry : entries) {
      int perms = 0;
      for (ZooKeeperConfig.Permission p : entry.permissions()) {
        perms |= switch (p) {
          case CREATE -> ZooDefs.Perms.CREATE;
          case READ -> ZooDefs.Perms.READ;
          case WRITE -> ZooDefs.Perms.WRITE;
          case DELETE -> ZooDefs.Perms.DELETE;
          case ADMIN -> ZooDefs.Perms.ADMIN;
          case ALL -> ZooDefs.Perms.ALL;
        };
      }
      out.add(new ACL(perms, new Id(entry.scheme(), entry.id())));
    }
    // not List.copyOf: ZooKeeper's client asks the list contains(null), which an immutable List.of list refuses
    return Collections.unmodifiableList(out);
  }

  private static ACLProvider aclProvider(List<ZooKeeperConfig.Acl> entries) {
    List<ACL> acls = acls(entries);
    return new ACLProvider() {
      @Override
      public List<ACL> getDefaultAcl() {
        return acls;
      }

      @Override
      public List<ACL> getAclForPath(String path) {
        return acls;
      }
    };
  }

  /**
   * Why a TLS connection to the servers fails, found by a handshake of its own with the same trust and key material
   * (ZooKeeper's client only logs it and retries): empty when a handshake succeeds with some server, or when none
   * could be reached at all (then TLS is not the problem).
   */
  public static Optional<String> tlsProblem(ZooKeeperConfig config, Duration timeout) {
    if (config.tls() == null) return Optional.empty();
    SSLContext context;
    try {
      context = sslContext(config.tls());
    } catch (GeneralSecurityException | IOException | ConfigException e) {
      return Optional.of("TLS settings unusable: " + e.getMessage());
    }
    String problem = null;
    for (String host : config.hosts()) {
      HostPort address = HostPort.parse(host, 2181);
      try (Socket plain = new Socket()) {
        plain.connect(new InetSocketAddress(address.host(), address.port()), (int) timeout.toMillis());
        plain.setSoTimeout((int) timeout.toMillis());
        try (SSLSocket tls = (SSLSocket) context.getSocketFactory()
            .createSocket(plain, address.host(), address.port(), false)) {
          tls.startHandshake();
          // with TLS 1.3 a server refuses a client certificate only after the handshake: wait for that briefly
          // (a ZooKeeper server says nothing before the client's connect request)
          tls.setSoTimeout((int) Math.min(timeout.toMillis(), 1_000));
          try {
            if (tls.getInputStream().read() < 0) {
              problem = "the server at " + host + " closed the TLS connection (client certificate refused?)";
              continue;
            }
          } catch (SocketTimeoutException e) {
            // nothing said, nothing refused
          }
          return Optional.empty();
        }
      } catch (SSLException e) {
        problem = "TLS handshake with " + host + " failed: " + e.getMessage()
            + " (check zookeeper.cacert, cert and key, and that the server serves TLS on that port)";
      } catch (IOException e) {
        // not reachable: not a TLS problem
      }
    }
    return Optional.ofNullable(problem);
  }

  private static SSLContext sslContext(ZooKeeperConfig.Tls tls)
      throws GeneralSecurityException, IOException, ConfigException {
    TrustManager[] trust = null;
    if (tls.cacert() != null) {
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      int i = 0;
      for (X509Certificate ca : PemFiles.certificates("zookeeper.cacert", tls.cacert())) {
        trusted.setCertificateEntry("ca" + i++, ca);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trusted);
      trust = tmf.getTrustManagers();
    }
    KeyManager[] keys = null;
    if (tls.cert() != null) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("client", PemFiles.privateKey("zookeeper.key", tls.key(), tls.keyPassword()), new char[0],
          PemFiles.certificates("zookeeper.cert", tls.cert()).toArray(new Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(store, new char[0]);
      keys = kmf.getKeyManagers();
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys, trust, null);
    return context;
  }

  /** Puts the client certificate chain and key into a PKCS#12 file readable only by this user. */
  private static KeyStoreFile keyStore(ZooKeeperConfig.Tls tls) {
    try {
      List<X509Certificate> chain = PemFiles.certificates("zookeeper.cert", tls.cert());
      PrivateKey key = PemFiles.privateKey("zookeeper.key", tls.key(), tls.keyPassword());
      byte[] random = new byte[18];
      new SecureRandom().nextBytes(random);
      String password = Base64.getUrlEncoder().encodeToString(random);
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("client", key, password.toCharArray(), chain.toArray(new Certificate[0]));
      Path dir = Files.createTempDirectory("pgha-zk-tls-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Path file = dir.resolve("client.p12");
      try (OutputStream out = Files.newOutputStream(file)) {
        store.store(out, password.toCharArray());
      }
      dir.toFile().deleteOnExit();
      file.toFile().deleteOnExit();
      return new KeyStoreFile(file, password);
    } catch (ConfigException e) {
      throw new IllegalStateException(e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the ZooKeeper client key store: " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build the ZooKeeper client key store: " + e.getMessage(), e);
    }
  }
}
