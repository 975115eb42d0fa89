package io.pgha.ha.vertx;

import io.pgha.config.Credentials;
import io.pgha.config.Values;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.PeerStatus;
import io.pgha.ha.port.Peers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;

/**
 * The {@link Peers} port over HTTP: asks every peer's {@code /patroni} for its WAL position during a leader race
 * (§3.5: 2 s, no retry, parallel), and whether an agent answers at an api_url.
 */
final class HttpPeers implements Peers {
  private static final long TIMEOUT_MS = 2000;
  private static final long LIVENESS_TIMEOUT_MS = 3000;
  private final Vertx vertx;
  private final Context ctx;
  private final HttpClient http;
  private final Credentials auth;

  HttpPeers(Vertx vertx, Context ctx) {
    this(vertx, ctx, null);
  }

  /** @param auth the REST API's basic-auth credentials ({@code restapi.authentication}), sent with POST /failsafe */
  HttpPeers(Vertx vertx, Context ctx, Credentials auth) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.auth = auth;
    this.http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) TIMEOUT_MS)
        .setTrustAll(true).setVerifyHost(false).setKeepAlive(false));
  }

  @Override
  public CompletionStage<Map<String, PeerStatus>> probe(Collection<MemberRecord> peers) {
    return OnContext.of(ctx, probeAll(peers));
  }

  private Future<Map<String, PeerStatus>> probeAll(Collection<MemberRecord> peers) {
    List<Future<PeerStatus>> answers = new ArrayList<>();
    for (MemberRecord m : peers) {
      if (m.apiUrl() == null) continue;
      answers.add(probeOne(m).otherwise(PeerStatus.unreachable(m.name())));
    }
    return Future.join(answers).map(all -> {
      Map<String, PeerStatus> out = new TreeMap<>();
      for (Future<PeerStatus> f : answers) out.put(f.result().name(), f.result());
      return out;
    });
  }

  private Future<PeerStatus> probeOne(MemberRecord m) {
    RequestOptions options = new RequestOptions().setAbsoluteURI(m.apiUrl()).setMethod(HttpMethod.GET)
        .setTimeout(TIMEOUT_MS);
    return http.request(options)
        .compose(req -> req.send())
        .compose(resp -> resp.body())
        .map(body -> parse(m.name(), new JsonObject(body)));
  }

  static PeerStatus parse(String name, JsonObject json) {
    JsonObject xlog = json.getJsonObject("xlog");
    if (xlog == null) return PeerStatus.unreachable(name);
    String role = json.getString("role", "");
    boolean primary = "primary".equals(role) || "master".equals(role) || xlog.containsKey("location");
    long lsn = primary ? longOrZero(xlog, "location")
        : Math.max(longOrZero(xlog, "received_location"), longOrZero(xlog, "replayed_location"));
    JsonObject tags = json.getJsonObject("tags", new JsonObject());
    boolean nofailover = Boolean.TRUE.equals(Values.parseBool(String.valueOf(tags.getValue("nofailover", "false"))));
    Long prio = Values.integer(com.fasterxml.jackson.databind.node.TextNode.valueOf(
        String.valueOf(tags.getValue("failover_priority", "1"))));
    int priority = nofailover ? 0 : prio == null ? 1 : prio.intValue();
    return new PeerStatus(name, true, primary, lsn, json.getInteger("timeline", 0), nofailover, priority);
  }

  private static long longOrZero(JsonObject o, String key) {
    Object v = o.getValue(key);
    return v instanceof Number n ? n.longValue() : 0;
  }

  /**
   * §10.2: {@code POST <api_url>/failsafe} to every member in parallel (2 s each, no retry: the next round is the
   * retry); accepted only on 200 with the body {@code Accepted}.
   */
  @Override
  public CompletionStage<Map<String, Boolean>> postFailsafe(Map<String, String> apiUrls, String body) {
    List<Future<Boolean>> answers = new ArrayList<>();
    List<String> names = new ArrayList<>(apiUrls.keySet());
    for (String name : names) answers.add(postOne(apiUrls.get(name), body).otherwise(false));
    Future<Map<String, Boolean>> all = Future.join(answers).map(x -> {
      Map<String, Boolean> out = new TreeMap<>();
      for (int i = 0; i < names.size(); i++) out.put(names.get(i), answers.get(i).result());
      return out;
    });
    return OnContext.of(ctx, all);
  }

  private Future<Boolean> postOne(String apiUrl, String body) {
    URI uri;
    try {
      uri = URI.create(apiUrl);
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(false);
    }
    RequestOptions options = new RequestOptions().setAbsoluteURI(uri.getScheme() + "://" + uri.getRawAuthority()
        + "/failsafe").setMethod(HttpMethod.POST).setTimeout(TIMEOUT_MS)
        .putHeader("Content-Type", "application/json");
    if (auth != null && auth.username() != null) {
      options.putHeader("Authorization", auth.basicAuthorization());
    }
    return http.request(options)
        .compose(req -> req.send(body))
        .compose(resp -> resp.body().map(b -> resp.statusCode() == 200 && "Accepted".equals(b.toString())));
  }

  /** §3.1: another agent of the same name answers {@code GET /liveness} at its api_url. */
  @Override
  public CompletionStage<Boolean> answers(String apiUrl) {
    URI uri = URI.create(apiUrl);
    String liveness = uri.getScheme() + "://" + uri.getAuthority() + "/liveness";
    HttpClient client = vertx.createHttpClient();
    Future<Boolean> answered = client.request(new RequestOptions().setAbsoluteURI(liveness)
            .setTimeout(LIVENESS_TIMEOUT_MS))
        .compose(req -> req.send())
        .eventually(() -> client.close())
        // our own API answering at our own URL (a key of our earlier run) is not a second agent
        .transform(ar -> Future.succeededFuture(ar.succeeded()
            && !io.pgha.Version.INSTANCE.equals(ar.result().getHeader(io.pgha.Version.INSTANCE_HEADER))));
    return OnContext.of(ctx, answered);
  }

  @Override
  public void close() {
    http.close();
  }
}
