package io.pgha.kube;

import io.pgha.bus.Addresses;
import io.pgha.model.NodeStatus;
import io.pgha.postgres.PostmasterEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this member's pod labelled with its role (Patroni's {@code kubernetes:} keys) while the DCS is ZooKeeper, so
 * that role-selected Services route to the primary and the replicas.
 *
 * <p>It listens to the member's status ({@link Addresses#HA_STATUS_CHANGED}) and patches the pod's labels
 * ({@code PATCH /api/v1/namespaces/<ns>/pods/<pod>}, a JSON merge patch) whenever the labels it should carry change.
 * It also listens to the HA loop's decisions ({@link Addresses#HA_DECIDED}): a {@code Promote} decision labels the
 * pod leader at once, while postgres is still promoting (so the label request is on its way before postgres takes
 * writes); a demotion keeps the pod's labels until postgres has stopped taking writes (the postmaster's exit,
 * {@link Addresses#PG_POSTMASTER_CHANGED}) and labels it follower then; the status takes over again once it shows
 * the change ({@link RoleLabels#reached}).
 * It is a bystander: the HA loop never waits for it. One patch is in flight at a time; a failed one (API server down,
 * 5xx, 409, a refused token) is retried with back-off from {@value #MIN_BACKOFF_MS} ms to {@value #MAX_BACKOFF_MS} ms,
 * without limit, always with the latest wanted labels.
 */
public final class PodLabeller extends VerticleBase {
  static final long MIN_BACKOFF_MS = 250;
  static final long MAX_BACKOFF_MS = 5_000;
  private static final long REQUEST_TIMEOUT_MS = 5_000;
  private static final Logger LOG = LoggerFactory.getLogger("pgha.kube");

  private final KubernetesSettings settings;
  private final AtomicLong patches = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private HttpClient client;
  private MessageConsumer<NodeStatus> consumer;
  private MessageConsumer<String> decisions;
  private MessageConsumer<PostmasterEvent> postmasters;
  /** The last status seen and the role change decided but not yet in it. Event loop only. */
  private NodeStatus lastStatus;
  private RoleLabels.Transition transition;
  /** The postmaster as its last event said (null: no event yet). Event loop only. */
  private Boolean postmasterAlive;
  /** A demotion under way: postgres has stopped (takes no writes), and has started again since. Event loop only. */
  private boolean demotionStopped;
  private boolean demotionRestarted;
  /** What the pod should carry (null values: remove); null until the first status. Event loop only. */
  private Map<String, String> wanted;
  /** What the last successful patch set. Event loop only. */
  private Map<String, String> applied;
  private boolean inFlight;
  private long retryTimer = -1;
  private long backoffMs = MIN_BACKOFF_MS;
  private boolean stopping;
  private Promise<Void> drained;

  public PodLabeller(KubernetesSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /**
   * Deploys a labeller on {@code vertx} when the configuration has a {@code kubernetes:} section (from the file or
   * {@code PATRONI_KUBERNETES_*}); returns null, deploying nothing, when it has none or when the section cannot be
   * used (logged as an error: labels are for routing, the member runs without them).
   */
  public static PodLabeller deployIfConfigured(io.vertx.core.Vertx vertx, io.pgha.config.PghaConfig config,
      Map<String, String> env) {
    KubernetesSettings settings;
    try {
      settings = KubernetesSettings.from(config.raw(), env, config.name());
    } catch (io.pgha.config.ConfigException e) {
      LOG.error("kubernetes: pod labels disabled: {}", e.getMessage());
      return null;
    }
    if (settings == null) {
      return null;
    }
    PodLabeller labeller = new PodLabeller(settings);
    vertx.deployVerticle(labeller).onFailure(e -> LOG.error("kubernetes: pod labeller did not start: {}", e.toString()));
    return labeller;
  }

  @Override
  public Future<?> start() {
    URI api = URI.create(settings.apiUrl());
    boolean https = "https".equalsIgnoreCase(api.getScheme());
    HttpClientOptions options = new HttpClientOptions()
        .setDefaultHost(api.getHost().replace("[", "").replace("]", ""))
        .setDefaultPort(api.getPort() > 0 ? api.getPort() : https ? 443 : 80)
        .setSsl(https)
        .setConnectTimeout((int) REQUEST_TIMEOUT_MS)
        .setIdleTimeout(60);
    if (https && Files.isReadable(settings.caFile())) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(settings.caFile().toString()));
    }
    client = vertx.createHttpClient(options);
    consumer = vertx.eventBus().localConsumer(Addresses.HA_STATUS_CHANGED, m -> onStatus(m.body()));
    decisions = vertx.eventBus().localConsumer(Addresses.HA_DECIDED, m -> onDecided(String.valueOf(m.body())));
    postmasters = vertx.eventBus().localConsumer(Addresses.PG_POSTMASTER_CHANGED, m -> onPostmaster(m.body()));
    LOG.info("kubernetes: labelling pod {}/{} with {} (leader {}, replica {}, standby leader {}) via {}",
        settings.namespace(), settings.podName(), settings.roleLabel(), settings.leaderValue(),
        settings.followerValue(), settings.standbyLeaderValue(), settings.apiUrl());
    return Future.all(consumer.completion(), decisions.completion(), postmasters.completion());
  }

  /**
   * Removes the role labels (the member is stopping) and waits for that patch, at most {@code timeoutMs}: call it
   * after postgres stopped, before Vert.x closes. Never fails.
   */
  public Future<Void> removeRoleLabels(long timeoutMs) {
    Promise<Void> done = Promise.promise();
    if (context == null) { // never deployed
      return Future.succeededFuture();
    }
    context.runOnContext(v -> {
      stopping = true;
      if (retryTimer >= 0) { // try now rather than after a long back-off
        vertx.cancelTimer(retryTimer);
        retryTimer = -1;
      }
      if (consumer != null) {
        consumer.unregister();
      }
      if (decisions != null) {
        decisions.unregister();
      }
      if (postmasters != null) {
        postmasters.unregister();
      }
      wanted = RoleLabels.stopped(settings);
      drained = done;
      long timer = vertx.setTimer(Math.max(1, timeoutMs), t -> {
        LOG.warn("kubernetes: could not remove the role label from pod {} in {} ms", settings.podName(), timeoutMs);
        done.tryComplete();
      });
      done.future().onComplete(x -> vertx.cancelTimer(timer));
      kick();
    });
    return done.future();
  }

  @Override
  public Future<?> stop() {
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
    }
    return client == null ? Future.succeededFuture() : client.close();
  }

  /** Patches sent that succeeded, for tests and logs. */
  public long patches() {
    return patches.get();
  }

  /** Patches that failed and were retried. */
  public long failures() {
    return failures.get();
  }

  private void onStatus(NodeStatus status) {
    if (stopping || status == null) {
      return;
    }
    lastStatus = status;
    if (transition != null && RoleLabels.reached(transition, status, demotionStopped, demotionRestarted)) {
      transition = null;
    }
    want();
  }

  /**
   * The postmaster stopped or started. A demotion's follower label waits for the stop: by then postgres has
   * terminated every backend and takes no more writes; a start after it ends the demotion's hold on the labels
   * (a replica now, or the primary again when the switchover's candidate did not catch up).
   */
  private void onPostmaster(PostmasterEvent event) {
    if (stopping || event == null) {
      return;
    }
    postmasterAlive = event.alive();
    if (transition != RoleLabels.Transition.DEMOTING) {
      return;
    }
    if (!event.alive()) {
      demotionStopped = true;
    } else if (demotionStopped) {
      demotionRestarted = true;
    }
    want(); // the status that follows decides when the demotion is over
  }

  /** A decision line: a promotion or demotion changes the labels now, without waiting for the status. */
  private void onDecided(String line) {
    RoleLabels.Transition t = RoleLabels.transition(line);
    if (stopping || t == null) {
      return;
    }
    if (t == RoleLabels.Transition.DEMOTING && transition != RoleLabels.Transition.DEMOTING) {
      // postgres takes writes until the postmaster stops, unless it is not running now (a ReleaseLeader of a
      // primary whose postgres is down, a Stop of a crashed one)
      demotionStopped = Boolean.FALSE.equals(postmasterAlive)
          || postmasterAlive == null && lastStatus != null && !"running".equals(lastStatus.state());
      demotionRestarted = false;
    }
    transition = t;
    want();
  }

  private void want() {
    if (transition == RoleLabels.Transition.DEMOTING && !demotionStopped) {
      return; // the labels stay as they are while the demoting primary's postgres may still take writes
    }
    Map<String, String> next = transition != null ? RoleLabels.during(transition, settings)
        : lastStatus != null ? RoleLabels.desired(lastStatus, settings) : null;
    if (next != null && !next.equals(wanted)) {
      wanted = next;
      kick();
    }
  }

  /** Sends a patch now unless one is in flight or a retry is scheduled (both send the latest wanted labels). */
  private void kick() {
    if (inFlight || retryTimer >= 0 || wanted == null) {
      return;
    }
    if (wanted.equals(applied)) {
      if (drained != null) {
        drained.tryComplete();
      }
      return;
    }
    Map<String, String> sending = new LinkedHashMap<>(wanted);
    inFlight = true;
    patch(sending).onComplete(ar -> {
      inFlight = false;
      if (ar.succeeded()) {
        patches.incrementAndGet();
        if (!sending.equals(applied)) {
          LOG.info("kubernetes: pod {} labels set: {}", settings.podName(), sending);
        }
        applied = sending;
        backoffMs = MIN_BACKOFF_MS;
        kick();
      } else {
        failures.incrementAndGet();
        long delay = backoffMs;
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        LOG.warn("kubernetes: cannot label pod {} ({}); retrying in {} ms", settings.podName(),
            ar.cause().getMessage(), delay);
        retryTimer = vertx.setTimer(delay, t -> {
          retryTimer = -1;
          kick();
        });
      }
    });
  }

  private Future<Void> patch(Map<String, String> labels) {
    JsonObject labelsJson = new JsonObject();
    labels.forEach(labelsJson::put); // null values stay: a merge patch removes them
    Buffer body = new JsonObject().put("metadata", new JsonObject().put("labels", labelsJson)).toBuffer();
    RequestOptions request = new RequestOptions()
        .setMethod(HttpMethod.PATCH)
        .setURI(settings.podPath())
        .setTimeout(REQUEST_TIMEOUT_MS)
        .putHeader("Content-Type", "application/merge-patch+json")
        .putHeader("Accept", "application/json");
    String token = token();
    if (token != null) {
      request.putHeader("Authorization", "Bearer " + token);
    }
    return client.request(request)
        .compose(req -> req.send(body))
        .compose(resp -> resp.body().compose(b -> resp.statusCode() / 100 == 2 ? Future.<Void>succeededFuture()
            : Future.failedFuture("HTTP " + resp.statusCode() + ": " + abbreviate(b.toString()))));
  }

  private String token() {
    try {
      return Files.isReadable(settings.tokenFile()) ? Files.readString(settings.tokenFile()).strip() : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static String abbreviate(String s) {
    String line = s.replace('\n', ' ');
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }
}
