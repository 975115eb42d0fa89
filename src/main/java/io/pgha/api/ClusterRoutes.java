package io.pgha.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.bus.Addresses;
import io.pgha.dcs.ViewParser;
import io.pgha.dcs.ZkLayout;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.io.UncheckedIOException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /cluster}, {@code GET /history}, {@code GET|PATCH|PUT /config} (§5.6, §5.7), each answered from a fresh
 * read of ZooKeeper. {@code PATCH} merges into the {@code config} key with a compare-and-set on the version it read
 * (409 when someone wrote in between) and wakes the HA loop; {@code PUT} overwrites when the text differs.
 *
 * <p>Nothing here blocks an event loop: single keys go through {@link ZkCalls} (asynchronous, no retries, with a
 * deadline); the whole-cluster read gathers the znodes the same way ({@link ZkCalls#readCluster}) and parses them with
 * the agent's parser ({@link ViewParser#snapshot}).
 */
public final class ClusterRoutes {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.api");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Runs between reading {@code config} and writing it back in {@code PATCH /config}; only tests need another. */
  interface BeforeWrite {
    Future<Void> run();
  }

  private final ApiVerticle api;
  private final String basePath;
  private final ZkLayout layout;
  private final Vertx vertx;
  private final ZkCalls zk;
  private final BeforeWrite beforeWrite;

  private ClusterRoutes(ApiVerticle api, CuratorFramework curator, String basePath, Vertx vertx,
      BeforeWrite beforeWrite) {
    this.api = api;
    this.basePath = basePath;
    this.layout = new ZkLayout(basePath);
    this.vertx = vertx;
    this.zk = new ZkCalls(curator, vertx);
    this.beforeWrite = beforeWrite;
  }

  /**
   * Adds the routes to {@code api} (before it is deployed).
   *
   * @param curator the agent's client ({@code ZooKeeperDcs#curator()}), started
   * @param basePath {@code /<namespace>/<scope>} ({@code PghaConfig#basePath()})
   */
  public static void install(ApiVerticle api, CuratorFramework curator, String basePath, Vertx vertx) {
    install(api, curator, basePath, vertx, Future::succeededFuture);
  }

  static ClusterRoutes install(ApiVerticle api, CuratorFramework curator, String basePath, Vertx vertx,
      BeforeWrite beforeWrite) {
    ClusterRoutes routes = new ClusterRoutes(api, curator, basePath, vertx, beforeWrite);
    api.route(HttpMethod.GET, "cluster", routes::getCluster)
        .route(HttpMethod.GET, "history", routes::getHistory)
        .route(HttpMethod.GET, "config", routes::getConfig)
        .route(HttpMethod.PATCH, "config", routes::patchConfig)
        .route(HttpMethod.PUT, "config", routes::putConfig);
    return routes;
  }

  private void getCluster(HttpServerRequest req) {
    if (!zk.connected()) {
      api.text(req, 503, "Service Unavailable: not connected to ZooKeeper");
      return;
    }
    zk.readCluster(layout).map(ViewParser::snapshot)
        .onSuccess(cluster -> api.json(req, 200, render(ClusterJson.render(cluster, scope()))))
        .onFailure(e -> api.text(req, 503, "Service Unavailable: cannot read the cluster: " + ZkCalls.reason(e)));
  }

  private void getHistory(HttpServerRequest req) {
    zk.read(layout.history())
        .onSuccess(node -> {
          JsonNode history = node == null ? null : parse(node.data());
          api.json(req, 200, render(history != null && history.isArray() ? history : JSON.createArrayNode()));
        })
        .onFailure(e -> api.text(req, 503, "Service Unavailable: cannot read the history: " + ZkCalls.reason(e)));
  }

  private void getConfig(HttpServerRequest req) {
    zk.read(layout.config())
        .onSuccess(node -> {
          ObjectNode config = node == null ? null : object(node.data());
          if (config == null) {
            api.text(req, 502, "Bad Gateway: " + (node == null ? "there is no config key in the DCS"
                : "the config key in the DCS is not a JSON object"));
          } else {
            api.json(req, 200, render(config));
          }
        })
        .onFailure(e -> api.text(req, 502, "Bad Gateway: cannot read the config: " + ZkCalls.reason(e)));
  }

  private void patchConfig(HttpServerRequest req) {
    String path = layout.config();
    JsonBody.read(req, false)
        .map(patch -> {
          ConfigBodyCheck.check(patch);
          return patch;
        })
        .compose(patch -> zk.read(path)
            .recover(e -> rejected(503, "Service Unavailable: cannot read the config: " + ZkCalls.reason(e)))
            .compose(node -> {
              ObjectNode current = node == null ? null : object(node.data());
              if (current == null) {
                return rejected(503, "Service Unavailable: " + (node == null ? "there is no config key in the DCS"
                    : "the config key in the DCS is not a JSON object"));
              }
              ObjectNode merged = current.deepCopy();
              if (!ConfigMerge.patch(merged, patch)) {
                return Future.succeededFuture(merged);
              }
              int version = node.stat().getVersion();
              return beforeWrite.run()
                  .compose(v -> zk.setData(path, bytes(merged), version))
                  .recover(e -> e instanceof KeeperException.BadVersionException
                      || e instanceof KeeperException.NoNodeException
                      ? rejected(409, "Conflict: the config was changed by someone else meanwhile; read it and retry")
                      : rejected(503, "Service Unavailable: cannot write the config: " + ZkCalls.reason(e)))
                  .map(stat -> {
                    LOG.info("config updated by PATCH /config from {}: version {} -> {}", ApiVerticle.client(req), version,
                        stat.getVersion());
                    return merged;
                  });
            }))
        .onSuccess(merged -> {
          vertx.eventBus().send(Addresses.HA_WAKE, null);
          api.json(req, 200, render(merged));
        })
        .onFailure(e -> api.fail(req, e));
  }

  private void putConfig(HttpServerRequest req) {
    String path = layout.config();
    JsonBody.read(req, false)
        .map(body -> {
          ConfigBodyCheck.check(body);
          return body;
        })
        .compose(body -> zk.read(path)
            .recover(e -> rejected(502, "Bad Gateway: cannot read the config: " + ZkCalls.reason(e)))
            .compose(node -> {
              ObjectNode current = node == null ? null : object(node.data());
              if (current != null && ConfigMerge.sameText(body, current)) {
                return Future.succeededFuture(body);
              }
              return zk.overwrite(path, bytes(body))
                  .recover(e -> rejected(502, "Bad Gateway: cannot write the config: " + ZkCalls.reason(e)))
                  .map(v -> {
                    LOG.info("config replaced by PUT /config from {}", ApiVerticle.client(req));
                    return body;
                  });
            }))
        .onSuccess(body -> api.json(req, 200, render(body)))
        .onFailure(e -> api.fail(req, e));
  }


  private String scope() {
    String scope = api.current().scope();
    return scope != null ? scope : basePath.substring(basePath.lastIndexOf('/') + 1);
  }

  private static <T> Future<T> rejected(int status, String message) {
    return Future.failedFuture(new RequestRejected(status, message));
  }


  private static JsonNode parse(byte[] data) {
    if (data == null || data.length == 0) {
      return null;
    }
    try {
      return JSON.readTree(data);
    } catch (Exception e) {
      return null;
    }
  }

  private static ObjectNode object(byte[] data) {
    JsonNode node = parse(data);
    return node != null && node.isObject() ? (ObjectNode) node : null;
  }

  /** Compact UTF-8 JSON, as Patroni stores it ({@code separators=(',', ':')}). */
  private static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e); // a tree of plain nodes always serializes
    }
  }

  private static Buffer render(JsonNode node) {
    return Buffer.buffer(bytes(node));
  }
}
