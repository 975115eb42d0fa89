package io.pgha.cli;

import io.pgha.config.ZooKeeperConfig;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ZkClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * pghactl's ZooKeeper connection: one short-lived Curator client that gives up quickly on a dead ensemble (a CLI must
 * not hang), reads the cluster as patronictl does and writes with compare-and-set on the version read.
 */
final class ZkSession implements AutoCloseable {
  private final CuratorFramework client;

  /** A znode's text and version. */
  record Versioned(String text, int version) {}

  private ZkSession(CuratorFramework client) {
    this.client = client;
  }

  /** Connects, or fails with {@link ClusterTable.UnreachableException} when no server answers in time. */
  static ZkSession connect(String connectString, Duration timeout) throws ClusterTable.UnreachableException {
    return connect(ZooKeeperConfig.plain(List.of(connectString)), timeout);
  }

  /**
   * Connects as the {@code zookeeper} section says (TLS, credentials, ACLs), or fails with
   * {@link ClusterTable.UnreachableException}, naming the TLS handshake's failure when that is why.
   */
  static ZkSession connect(ZooKeeperConfig zookeeper, Duration timeout) throws ClusterTable.UnreachableException {
    CuratorFramework client = ZkClients.builder(zookeeper)
        .connectionTimeoutMs((int) timeout.toMillis())
        .sessionTimeoutMs((int) Math.max(timeout.toMillis() * 2, 4_000))
        .retryPolicy(new RetryNTimes(1, 200))
        .build();
    client.start();
    boolean connected;
    try {
      connected = client.blockUntilConnected((int) timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      connected = false;
    }
    if (!connected) {
      client.close();
      String why = zookeeper.tls() == null ? null : ZkClients.tlsProblem(zookeeper, timeout).orElse(null);
      throw new ClusterTable.UnreachableException(zookeeper.connectString(), why);
    }
    return new ZkSession(client);
  }

  /** The cluster under {@code basePath} (§1.7). */
  ClusterSnapshot read(String basePath) throws Exception {
    return ClusterSnapshot.read(client, basePath);
  }

  /** Text and version of {@code path}, or null when it does not exist. */
  Versioned get(String path) throws Exception {
    Stat stat = new Stat();
    try {
      byte[] data = client.getData().storingStatIn(stat).forPath(path);
      return new Versioned(data == null ? "" : new String(data, StandardCharsets.UTF_8), stat.getVersion());
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  /** The version of every member key, by name (patronictl's {@code Member.index}). */
  Map<String, Integer> memberVersions(String membersPath) throws Exception {
    Map<String, Integer> versions = new HashMap<>();
    List<String> names;
    try {
      names = client.getChildren().forPath(membersPath);
    } catch (KeeperException.NoNodeException e) {
      return versions;
    }
    for (String name : names) {
      Stat stat = client.checkExists().forPath(membersPath + "/" + name);
      if (stat != null) {
        versions.put(name, stat.getVersion());
      }
    }
    return versions;
  }

  /** Compare-and-set: false when the znode changed since {@code version} was read or is gone. */
  boolean setIfVersion(String path, String text, int version) throws Exception {
    try {
      client.setData().withVersion(version).forPath(path, text.getBytes(StandardCharsets.UTF_8));
      return true;
    } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
      return false;
    }
  }

  /** Sets {@code path}, creating it (and its parents, persistent) when missing. */
  void set(String path, String text) throws Exception {
    byte[] data = text.getBytes(StandardCharsets.UTF_8);
    try {
      client.setData().forPath(path, data);
    } catch (KeeperException.NoNodeException e) {
      client.create().creatingParentsIfNeeded().forPath(path, data);
    }
  }

  /** Creates a persistent {@code path} (parents too); false when it already exists. */
  boolean create(String path, String text) throws Exception {
    try {
      client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT)
          .forPath(path, text.getBytes(StandardCharsets.UTF_8));
      return true;
    } catch (KeeperException.NodeExistsException e) {
      return false;
    }
  }

  /** Deletes {@code path} and everything below it; nothing when it does not exist. */
  void deleteRecursively(String path) throws Exception {
    try {
      client.delete().deletingChildrenIfNeeded().forPath(path);
    } catch (KeeperException.NoNodeException e) {
      // already gone
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
