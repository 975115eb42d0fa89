package io.pgha.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code zookeeper} section: hosts as {@code host:port} strings, and Patroni's security keys (patroni-compat §1.1):
 * TLS ({@code use_ssl}, {@code cacert}, {@code cert}, {@code key}, {@code key_password}, {@code verify}), session
 * credentials ({@code auth_data}) and the ACL given to every znode created ({@code set_acls}).
 *
 * @param tls null when {@code use_ssl} is off (Patroni then ignores every other TLS key)
 * @param authData {@code auth_data} in file order, empty when not set
 * @param acls {@code set_acls} in file order; empty means ZooKeeper's open ACL
 */
public record ZooKeeperConfig(List<String> hosts, Tls tls, List<Auth> authData, List<Acl> acls) {

  public ZooKeeperConfig {
    hosts = List.copyOf(hosts);
    authData = List.copyOf(authData);
    acls = List.copyOf(acls);
  }

  /** Plain connections, no credentials, open ACLs: what a config with only {@code hosts} means. */
  public static ZooKeeperConfig plain(List<String> hosts) {
    return new ZooKeeperConfig(hosts, null, List.of(), List.of());
  }

  /** {@code h1:p1,h2:p2}, for Curator. */
  public String connectString() {
    return String.join(",", hosts);
  }

  /**
   * TLS towards the servers. The server's certificate is checked against {@code cacert} (or, without it, the JVM's
   * trusted CAs); {@code cert} and {@code key} are the client certificate, when the servers ask for one.
   *
   * @param cacert null: the JVM's trusted CAs (as Python's default ones for Patroni)
   * @param cert null: no client certificate
   * @param key the client key; equal to {@code cert} when that file holds both
   */
  public record Tls(Path cacert, Path cert, Path key, String keyPassword) {
    @Override
    public String toString() {
      return "Tls[cacert=" + cacert + ", cert=" + cert + ", key=" + key + "]";
    }
  }

  /** One {@code auth_data} entry: a scheme ({@code digest}) and its credential ({@code user:password}). */
  public record Auth(String scheme, String credential) {
    @Override
    public String toString() {
      return "Auth[" + scheme + "]";
    }
  }

  /** One {@code set_acls} entry: an identity and what it may do. */
  public record Acl(String scheme, String id, Set<Permission> permissions) {
    public Acl {
      permissions = Set.copyOf(permissions);
    }
  }

  /** ZooKeeper's permissions as Patroni names them in {@code set_acls}. */
  public enum Permission { CREATE, READ, WRITE, DELETE, ADMIN, ALL }
}
