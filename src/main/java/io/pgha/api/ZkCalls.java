package io.pgha.api;

import io.pgha.dcs.ViewParser;
import io.pgha.dcs.ZkLayout;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * Single ZooKeeper calls for the REST API, asynchronous and without retries, answered on the caller's context.
 *
 * <p>They go through the agent's Curator client's current ZooKeeper handle rather than Curator's operations: the
 * agent's client retries forever, which is right for the HA loop but would keep a REST request (and, for a write, its
 * effect) pending for as long as ZooKeeper is away. Here a call made while disconnected fails at once, a call cut off
 * fails with {@code CONNECTIONLOSS}, and every call has a deadline.
 */
final class ZkCalls {
  static final long TIMEOUT_MS = 10_000;

  private static final List<ACL> ACL = ZooDefs.Ids.OPEN_ACL_UNSAFE;

  private final CuratorFramework curator;
  private final Vertx vertx;

  /** A znode's data and stat; {@link #read} gives null when the znode does not exist. */
  record Node(byte[] data, Stat stat) {}

  ZkCalls(CuratorFramework curator, Vertx vertx) {
    this.curator = curator;
    this.vertx = vertx;
  }

  boolean connected() {
    return curator.getZookeeperClient().isConnected();
  }

  /** The znode's data and stat, or null when it does not exist. */
  Future<Node> read(String path) {
    return call((zk, done) -> zk.getData(path, false, (rc, p, ctx, data, stat) -> {
      Code code = Code.get(rc);
      if (code == Code.OK) {
        done.complete(new Node(data == null ? new byte[0] : data, stat));
      } else if (code == Code.NONODE) {
        done.complete(null);
      } else {
        done.fail(KeeperException.create(code, p));
      }
    }, null));
  }

  /** The znode's data ({@code []} for none), or null when it does not exist. */
  Future<byte[]> data(String path) {
    return read(path).map(node -> node == null ? null : node.data());
  }

  /** The znode's children, or an empty list when it does not exist. */
  Future<List<String>> children(String path) {
    return call((zk, done) -> zk.getChildren(path, false, (rc, p, ctx, names) -> {
      Code code = Code.get(rc);
      if (code == Code.OK) {
        done.complete(names == null ? List.of() : List.copyOf(names));
      } else if (code == Code.NONODE) {
        done.complete(List.of());
      } else {
        done.fail(KeeperException.create(code, p));
      }
    }, null));
  }

  /**
   * The znodes of the cluster under {@code layout}, gathered with asynchronous calls (what the CLI's blocking
   * {@code ClusterSnapshot.read} reads), for {@link ViewParser#snapshot}; within one deadline for the whole read.
   */
  Future<ViewParser.RawCluster> readCluster(ZkLayout layout) {
    Future<ViewParser.RawCluster> read = children(layout.base()).compose(keys -> {
      Future<byte[]> leader = keys.contains("leader") ? data(layout.leader()) : Future.succeededFuture();
      Future<byte[]> initialize = keys.contains("initialize") ? data(layout.initialize()) : Future.succeededFuture();
      Future<byte[]> config = keys.contains("config") ? data(layout.config()) : Future.succeededFuture();
      Future<byte[]> failover = keys.contains("failover") ? data(layout.failover()) : Future.succeededFuture();
      Future<byte[]> sync = keys.contains("sync") ? data(layout.sync()) : Future.succeededFuture();
      Future<byte[]> status = data(layout.status());
      Future<byte[]> legacyOptime = status.compose(s -> s == null ? data(layout.legacyOptime())
          : Future.<byte[]>succeededFuture());
      Future<Map<String, byte[]>> members = !keys.contains("members") ? Future.succeededFuture(Map.of())
          : children(layout.members()).compose(names -> {
            List<Future<byte[]>> values = new ArrayList<>();
            for (String name : names) {
              values.add(data(layout.member(name)));
            }
            return Future.all(values).map(all -> {
              Map<String, byte[]> byName = new TreeMap<>();
              for (int i = 0; i < names.size(); i++) {
                byte[] value = values.get(i).result();
                if (value != null) { // deleted between the listing and the read
                  byName.put(names.get(i), value);
                }
              }
              return byName;
            });
          });
      return Future.all(List.of(leader, initialize, config, failover, sync, status, legacyOptime, members))
          .map(all -> new ViewParser.RawCluster(leader.result(), 0, members.result(), initialize.result(),
              config.result(), failover.result(), null, status.result(), sync.result(), -1,
              legacyOptime.result()));
    });
    return read.timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }

  /**
   * Sets the znode's data if its version is still {@code version} ({@code -1}: any version). Fails with
   * {@link KeeperException.BadVersionException} or {@link KeeperException.NoNodeException} when it is not.
   */
  Future<Stat> setData(String path, byte[] data, int version) {
    return call((zk, done) -> zk.setData(path, data, version, (rc, p, ctx, stat) -> {
      Code code = Code.get(rc);
      if (code == Code.OK) {
        done.complete(stat);
      } else {
        done.fail(KeeperException.create(code, p));
      }
    }, null));
  }

  /** Sets the znode's data whatever its version, creating it (and missing parents, empty) when absent. */
  Future<Void> overwrite(String path, byte[] data) {
    return setData(path, data, -1).<Void>mapEmpty().recover(e -> {
      if (e instanceof KeeperException.NoNodeException) {
        return createWithParents(path, data);
      }
      return Future.failedFuture(e);
    });
  }

  private Future<Void> createWithParents(String path, byte[] data) {
    return create(path, data).recover(e -> {
      if (e instanceof KeeperException.NodeExistsException) {
        return setData(path, data, -1).mapEmpty(); // created meanwhile by someone else: overwrite it
      }
      if (e instanceof KeeperException.NoNodeException) {
        int slash = path.lastIndexOf('/');
        if (slash <= 0) {
          return Future.failedFuture(e);
        }
        String parent = path.substring(0, slash);
        return create(parent, new byte[0])
            .recover(p -> p instanceof KeeperException.NoNodeException ? createWithParents(parent, new byte[0])
                : p instanceof KeeperException.NodeExistsException ? Future.succeededFuture() : Future.failedFuture(p))
            .compose(v -> create(path, data));
      }
      return Future.failedFuture(e);
    });
  }

  private Future<Void> create(String path, byte[] data) {
    return call((zk, done) -> zk.create(path, data, ACL, CreateMode.PERSISTENT, (rc, p, ctx, name) -> {
      Code code = Code.get(rc);
      if (code == Code.OK) {
        done.complete();
      } else {
        done.fail(KeeperException.create(code, p));
      }
    }, null));
  }

  private interface Call<T> {
    void start(ZooKeeper zk, Promise<T> done) throws Exception;
  }

  private <T> Future<T> call(Call<T> call) {
    Context context = vertx.getOrCreateContext();
    if (!connected()) {
      return Future.failedFuture(KeeperException.create(Code.CONNECTIONLOSS));
    }
    Promise<T> raw = Promise.promise();
    try {
      call.start(curator.getZookeeperClient().getZooKeeper(), raw);
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
    // ZooKeeper answers on its event thread: continue on the caller's context
    Promise<T> onContext = Promise.promise();
    raw.future().onComplete(ar -> context.runOnContext(v -> onContext.handle(ar)));
    return onContext.future().timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }

  /** A short reason for a failed call, for a one-line reply. */
  static String reason(Throwable e) {
    if (e instanceof KeeperException ke) {
      return "ZooKeeper: " + ke.code().name().toLowerCase().replace('_', ' ');
    }
    if (e instanceof java.util.concurrent.TimeoutException) {
      return "ZooKeeper did not answer within " + TIMEOUT_MS / 1000 + " s";
    }
    return String.valueOf(e.getMessage());
  }
}
