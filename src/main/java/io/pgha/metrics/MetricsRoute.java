package io.pgha.metrics;

import io.pgha.api.ApiVerticle;
import io.pgha.model.NodeStatus;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} (patroni-compat §6): the Patroni block rendered from the API's current {@link NodeStatus},
 * then the Micrometer registry (pgha, JVM and Vert.x meters). Always 200, whatever the member's state: Prometheus
 * must keep scraping a member whose postgres is down. Built on the event loop from in-memory state only.
 */
public final class MetricsRoute {
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Logger LOG = LoggerFactory.getLogger("pgha.metrics");
  private static final CharSequence CONTENT_TYPE_VALUE = HttpHeaders.createOptimized(CONTENT_TYPE);
  private static final CharSequence SERVER_VALUE = HttpHeaders.createOptimized("pgha");
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

  private MetricsRoute() {}

  /**
   * Adds {@code GET /metrics} to {@code api}; call before deploying it.
   *
   * @param metrics the registry to append, or null for the Patroni block alone
   */
  public static ApiVerticle install(ApiVerticle api, PghaMetrics metrics) {
    Objects.requireNonNull(api, "api");
    return api.route(HttpMethod.GET, "metrics", req -> handle(req, api.current(), metrics));
  }

  /** The whole body: Patroni block, {@code pgha_maximum_lag_on_failover_bytes}, then the registry's scrape. */
  public static String body(NodeStatus status, PghaMetrics metrics) {
    StringBuilder out = new StringBuilder(metrics == null ? 4096 : 32768);
    PatroniMetrics.render(status, out);
    // the setting the replica-lag alert rule (deploy/prometheus) compares with; Patroni exports no such metric
    out.append("# HELP pgha_maximum_lag_on_failover_bytes maximum_lag_on_failover of the dynamic configuration.\n")
        .append("# TYPE pgha_maximum_lag_on_failover_bytes gauge\n")
        .append("pgha_maximum_lag_on_failover_bytes").append(PatroniMetrics.labels(status.scope(), status.name()))
        .append(' ').append(status.maximumLagOnFailoverBytes()).append('\n');
    if (metrics != null) {
      String scrape = metrics.scrape();
      out.append(scrape);
      if (!scrape.isEmpty() && scrape.charAt(scrape.length() - 1) != '\n') {
        out.append('\n');
      }
    }
    return out.toString();
  }

  private static void handle(HttpServerRequest req, NodeStatus status, PghaMetrics metrics) {
    String body;
    try {
      body = body(status, metrics);
    } catch (RuntimeException e) { // a bug, not a state of the member: say so instead of a silent partial body
      LOG.error("metrics: cannot render /metrics", e);
      req.response().setStatusCode(500).end("cannot render metrics: " + e + "\n");
      return;
    }
    req.response().setStatusCode(200).headers()
        .set(HttpHeaders.SERVER, SERVER_VALUE)
        .set(HttpHeaders.DATE, HTTP_DATE.format(Instant.now()))
        .set(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE_VALUE);
    req.response().end(body);
  }
}
