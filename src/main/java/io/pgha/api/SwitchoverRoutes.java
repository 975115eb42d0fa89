package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.bus.Addresses;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import io.pgha.dcs.ViewParser;
import io.pgha.dcs.ZkLayout;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /switchover}, {@code POST /failover} and {@code DELETE /switchover} (patroni-compat §5.8): every check of
 * Patroni's {@code do_POST_failover} in its order and with its messages, then the request is recorded in the
 * {@code failover} znode ({@code {"leader","member","scheduled_at"}}, §1.3), the HA loop is woken on
 * {@link Addresses#HA_WAKE}, and an immediate request is answered once ZooKeeper shows its outcome. The HA loop does
 * the rest (§3.8); nothing here touches postgres or the leader key. Rejected requests write nothing.
 *
 * <p>ZooKeeper as in {@link ClusterRoutes}: the whole-cluster read gathers the znodes asynchronously
 * ({@link ZkCalls#readCluster}), only while connected; single keys (the write, the polls, DELETE) go through
 * {@link ZkCalls}, without the agent client's endless retries, so an outage gets a 503 at once and a write the client
 * was told failed cannot land later.
 *
 * <p>Deliberate differences from Patroni: the outcome is polled every 100 ms instead of every second (a pgha
 * switchover completes in well under a second); a rejected candidate's 412 gives the reason after Patroni's text
 * (see {@link Candidates}); a scheduled request must also name the current leader and an existing candidate (Patroni
 * writes any names and lets the leader drop the key when it is due).
 */
public final class SwitchoverRoutes {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.api");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] BODY_KEYS = {"leader", "candidate", "member", "scheduled_at"};

  /**
   * Timings.
   *
   * @param pollIntervalMs how often ZooKeeper is read while an immediate request is pending
   * @param pollTimeoutMs how long to wait for the outcome; 0 = Patroni's {@code 2*max(10, loop_wait)} seconds
   * @param probeTimeoutMs the limit for each candidate's {@code GET api_url} (Patroni: 2 s)
   * @param clockMs epoch milliseconds: "in the past" for schedules, and the poll deadline
   * @param beforeClear runs between reading {@code failover} and clearing it in {@code DELETE /switchover}; only
   *     tests need another than "nothing"
   */
  record Settings(long pollIntervalMs, long pollTimeoutMs, long probeTimeoutMs, LongSupplier clockMs,
      Supplier<Future<Void>> beforeClear) {
    static final Settings DEFAULT =
        new Settings(100, 0, 2000, System::currentTimeMillis, Future::succeededFuture);
  }

  private final ApiVerticle api;
  private final Vertx vertx;
  private final String basePath;
  private final ZkLayout layout;
  private final Settings settings;
  private final ZkCalls zk;
  private final HttpClient http;

  private SwitchoverRoutes(ApiVerticle api, Vertx vertx, CuratorFramework curator, String basePath,
      Settings settings) {
    this.api = Objects.requireNonNull(api, "api");
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.basePath = Objects.requireNonNull(basePath, "basePath");
    this.layout = new ZkLayout(basePath);
    this.settings = Objects.requireNonNull(settings, "settings");
    this.zk = new ZkCalls(Objects.requireNonNull(curator, "curator"), vertx);
    this.http = vertx.createHttpClient(new HttpClientOptions()
        .setConnectTimeout((int) settings.probeTimeoutMs())
        .setTrustAll(true).setVerifyHost(false).setKeepAlive(false));
  }

  /**
   * Adds the three routes to {@code api} (before it is deployed).
   *
   * @param curator the agent's client ({@code ZooKeeperDcs#curator()}), started
   * @param basePath {@code /<namespace>/<scope>}
   */
  public static void install(ApiVerticle api, Vertx vertx, CuratorFramework curator, String basePath) {
    install(api, vertx, curator, basePath, Settings.DEFAULT);
  }

  static void install(ApiVerticle api, Vertx vertx, CuratorFramework curator, String basePath, Settings settings) {
    SwitchoverRoutes routes = new SwitchoverRoutes(api, vertx, curator, basePath, settings);
    api.route(HttpMethod.POST, "switchover", req -> routes.post(req, "switchover"))
        .route(HttpMethod.POST, "failover", req -> routes.post(req, "failover"))
        .route(HttpMethod.DELETE, "switchover", routes::delete);
  }

  /** A request that passed step 1, before any cluster check. */
  private record Request(String action, String leader, String candidate, String scheduledAt) {}

  private void post(HttpServerRequest req, String action) {
    JsonBody.read(req, false)
        .map(body -> parseRequest(body, action))
        .compose(request -> {
          LOG.info("received {} request from {} with leader={} candidate={} scheduled_at={}", action, ApiVerticle.client(req),
              request.leader(), request.candidate(), request.scheduledAt());
          return readCluster().map(cluster -> {
            check(req, request, cluster);
            return null;
          });
        })
        .onFailure(e -> api.fail(req, e));
  }

  /** Step 1 of §5.8, and the types of the body's values. */
  private static Request parseRequest(ObjectNode body, String action) {
    for (String key : BODY_KEYS) {
      JsonNode value = body.get(key);
      if (value != null && !value.isNull() && !value.isTextual()) {
        throw new RequestRejected(400, key + " must be a string");
      }
    }
    String leader = text(body, "leader");
    String candidate = text(body, "candidate");
    if (candidate == null) {
      candidate = text(body, "member");
    }
    if (action.equals("failover") && candidate == null) {
      throw new RequestRejected(400, "Failover could be performed only to a specific candidate");
    }
    if (action.equals("switchover") && leader == null) {
      throw new RequestRejected(400, "Switchover could be performed only from a specific leader");
    }
    return new Request(action, leader, candidate, text(body, "scheduled_at"));
  }

  /** A string value, null when absent, null or empty (Python's falsy). */
  private static String text(ObjectNode body, String key) {
    JsonNode value = body.get(key);
    return value == null || value.isNull() || value.asText().isEmpty() ? null : value.asText();
  }

  private Future<ClusterSnapshot> readCluster() {
    if (!zk.connected()) {
      return Future.failedFuture(new RequestRejected(503, "Service Unavailable: not connected to ZooKeeper"));
    }
    return zk.readCluster(layout).map(ViewParser::snapshot)
        .recover(e -> Future.failedFuture(
            new RequestRejected(503, "Service Unavailable: cannot read the cluster: " + ZkCalls.reason(e))));
  }

  /** Steps 2-6 of §5.8, then the write. */
  private void check(HttpServerRequest req, Request request, ClusterSnapshot cluster) {
    String action = request.action();
    String leader = request.leader();
    String candidate = request.candidate();
    String scheduledAt = null;
    if (request.scheduledAt() != null) {
      if (action.equals("failover")) {
        api.text(req, 400, "Failover can't be scheduled");
        return;
      }
      if (cluster.paused()) {
        api.text(req, 400, "Can't schedule switchover in the paused state");
        return;
      }
      Schedules.Result at = Schedules.parse(request.scheduledAt(), action,
          Instant.ofEpochMilli(settings.clockMs().getAsLong()));
      if (!at.ok()) {
        api.text(req, at.status(), at.error());
        return;
      }
      scheduledAt = Schedules.isoformat(at.at());
    }
    if (cluster.paused() && candidate == null) {
      api.text(req, 400, "Switchover is possible only to a specific candidate in a paused state");
      return;
    }
    if (action.equals("failover") && leader != null) {
      LOG.warn("received failover request with leader specified - performing switchover instead");
      action = "switchover";
    }
    if (Objects.equals(leader, candidate)) {
      api.text(req, 400, "Switchover target and source are the same");
      return;
    }
    String finalAction = action;
    String finalScheduledAt = scheduledAt;
    Future<String> refusal = scheduledAt == null ? failoverPossible(cluster, leader, candidate, action)
        : Future.succeededFuture(scheduledNamesCheck(cluster, leader, candidate));
    refusal.onComplete(ar -> {
      String why = ar.succeeded() ? ar.result() : finalAction + " is not possible: " + ar.cause().getMessage();
      if (why != null) {
        LOG.info("{} refused: {}", finalAction, why);
        api.text(req, 412, why);
      } else {
        write(req, finalAction, leader, candidate, finalScheduledAt, cluster);
      }
    });
  }

  /** pgha's checks of a scheduled request: the names must be right now (health is the leader's job when due). */
  private static String scheduledNamesCheck(ClusterSnapshot cluster, String leader, String candidate) {
    if (leader != null && !leader.equals(cluster.leader())) {
      return "leader name does not match";
    }
    if (candidate != null && cluster.member(candidate).isEmpty()) {
      return "candidate does not exists";
    }
    return null;
  }

  /**
   * Patroni's {@code is_failover_possible}: null when at least one asked member may take over, else why not. The
   * members are asked in parallel and the answer comes with the first good one: a member that hangs does not delay
   * a switchover to another by the probe timeout.
   */
  private Future<String> failoverPossible(ClusterSnapshot cluster, String leader, String candidate, String action) {
    Candidates.Selection selection = Candidates.select(cluster, leader, candidate, action);
    if (selection.error() != null) {
      return Future.succeededFuture(selection.error());
    }
    Promise<String> verdict = Promise.promise();
    List<Future<String>> answers = new ArrayList<>();
    for (Member member : selection.members()) {
      Future<JsonObject> status = member.apiUrl() == null || member.name().equals(cluster.leader())
          ? Future.succeededFuture(null)
          : probe(member.apiUrl()).otherwise((JsonObject) null);
      Future<String> answer = status.map(s -> {
        String why = Candidates.limitation(member, s, cluster);
        return why == null ? null : member.name() + ": " + why;
      });
      answer.onSuccess(why -> {
        if (why == null) {
          verdict.tryComplete(null);
        }
      });
      answers.add(answer);
    }
    Future.join(answers).onComplete(all -> {
      List<String> reasons = new ArrayList<>();
      for (Future<String> answer : answers) {
        reasons.add(answer.succeeded() ? answer.result() : "not reachable");
      }
      verdict.tryComplete(Candidates.noGoodCandidates(action, reasons));
    });
    return verdict.future();
  }

  /** {@code GET api_url}: the member's status JSON; fails when unreachable, late or not a JSON object. */
  private Future<JsonObject> probe(String apiUrl) {
    long timeoutMs = settings.probeTimeoutMs();
    RequestOptions options;
    try {
      options = new RequestOptions().setAbsoluteURI(apiUrl).setMethod(HttpMethod.GET)
          .setConnectTimeout(timeoutMs).setIdleTimeout(timeoutMs);
    } catch (RuntimeException badUrl) {
      return Future.failedFuture(badUrl);
    }
    return http.request(options)
        .compose(r -> r.send())
        .compose(HttpClientResponse::body)
        .map(Buffer::toJsonObject)
        .timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** Step 7: write the key and wake the loop; step 8: answer. */
  private void write(HttpServerRequest req, String action, String leader, String candidate, String scheduledAt,
      ClusterSnapshot cluster) {
    ObjectNode value = JSON.createObjectNode();
    if (leader != null) value.put("leader", leader);
    if (candidate != null) value.put("member", candidate);
    if (scheduledAt != null) value.put("scheduled_at", scheduledAt);
    zk.overwrite(layout.failover(), value.toString().getBytes(StandardCharsets.UTF_8))
        .onFailure(e -> {
          LOG.warn("{}: failed to write failover key into DCS: {}", action, ZkCalls.reason(e));
          api.text(req, 503, "failed to write failover key into DCS");
        })
        .onSuccess(v -> {
          LOG.info("{}: failover key set to {}", action, value);
          vertx.eventBus().send(Addresses.HA_WAKE, null, new DeliveryOptions().setLocalOnly(true));
          if (scheduledAt != null) {
            api.text(req, 202, title(action) + " scheduled");
          } else {
            long timeoutMs = settings.pollTimeoutMs() > 0 ? settings.pollTimeoutMs()
                : pollTimeoutSeconds(cluster.config()) * 1000L;
            poll(req, action, cluster.leader(), candidate, settings.clockMs().getAsLong() + timeoutMs);
          }
        });
  }

  /** Patroni's wait for the outcome of an immediate request: {@code 2*max(10, loop_wait)} seconds. */
  static long pollTimeoutSeconds(ObjectNode config) {
    return 2L * Math.max(10, Candidates.loopWaitSeconds(config));
  }

  /** What one poll saw. */
  private record Outcome(boolean requestPending, String leader) {}

  /**
   * Reads {@code failover}, then {@code leader}. The order matters: the new leader takes the leader key before it
   * clears the request, so a cleared request read first and an unchanged leader read after mean a failure, never a
   * success caught half-way.
   */
  private Future<Outcome> readOutcome() {
    return zk.read(layout.failover()).compose(failover -> zk.read(layout.leader()).map(leader -> {
      String name = leader == null ? "" : new String(leader.data(), StandardCharsets.UTF_8).trim();
      return new Outcome(ViewParser.failoverPending(failover == null ? null : failover.data()), name.isEmpty() ? null : name);
    }));
  }

  private void poll(HttpServerRequest req, String action, String leaderAtRequest, String candidate, long deadlineMs) {
    vertx.setTimer(settings.pollIntervalMs(), id -> {
      if (req.response().closed() || req.response().ended()) {
        LOG.info("{}: the client went away before the outcome", action);
        return;
      }
      readOutcome().onComplete(ar -> {
        if (ar.succeeded()) {
          Outcome seen = ar.result();
          if (seen.leader() != null && !seen.leader().equals(leaderAtRequest)) {
            String past = action.equals("switchover") ? "switched over" : "failed over";
            String message = candidate == null || candidate.equals(seen.leader())
                ? "Successfully " + past + " to \"" + seen.leader() + "\""
                : title(past) + " to \"" + seen.leader() + "\" instead of \"" + candidate + "\"";
            LOG.info("{}: {}", action, message);
            api.text(req, 200, message);
            return;
          }
          if (!seen.requestPending()) {
            LOG.info("{} failed: the request was cleared and the leader is still {}", action, leaderAtRequest);
            api.text(req, 503, title(action) + " failed");
            return;
          }
        } else {
          LOG.debug("{}: polling ZooKeeper failed: {}", action, ZkCalls.reason(ar.cause()));
        }
        if (settings.clockMs().getAsLong() >= deadlineMs) {
          LOG.warn("{}: no outcome within the deadline", action);
          api.text(req, 503, title(action) + " status unknown");
          return;
        }
        poll(req, action, leaderAtRequest, candidate, deadlineMs);
      });
    });
  }

  private static String title(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /** {@code DELETE /switchover}: clears a scheduled request with compare-and-set on the version read. */
  private void delete(HttpServerRequest req) {
    String path = layout.failover();
    zk.read(path)
        .recover(e -> Future.failedFuture(
            new RequestRejected(503, "Service Unavailable: cannot read the failover key: " + ZkCalls.reason(e))))
        .compose(node -> {
          if (node == null || !ViewParser.failoverScheduled(node.data())) {
            return Future.failedFuture(new RequestRejected(404, "no switchover is scheduled"));
          }
          return settings.beforeClear().get()
              .compose(v -> zk.setData(path, "{}".getBytes(StandardCharsets.UTF_8), node.stat().getVersion()))
              .recover(e -> Future.failedFuture(e instanceof KeeperException.BadVersionException
                  || e instanceof KeeperException.NoNodeException
                  ? new RequestRejected(409, "Conflict: the failover key was changed meanwhile; read it and retry")
                  : new RequestRejected(503, "Service Unavailable: cannot write the failover key: "
                      + ZkCalls.reason(e))));
        })
        .onSuccess(stat -> {
          LOG.info("scheduled switchover deleted by {}", ApiVerticle.client(req));
          api.text(req, 200, "scheduled switchover deleted");
        })
        .onFailure(e -> api.fail(req, e));
  }
}
