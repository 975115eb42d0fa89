package io.pgha.metrics;

import com.sun.management.OperatingSystemMXBean;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgha.decision.ClusterView;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.Reason;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * pgha's own meters, the JVM's and Vert.x's, in one Micrometer {@link PrometheusMeterRegistry}; {@link #scrape()}
 * is what {@code GET /metrics} appends after the Patroni block. Every meter carries the labels {@code scope} and
 * {@code name}, as the Patroni block does, so the two can be joined.
 *
 * <p>The methods are plain calls the HA loop makes; all are thread-safe, cheap and never block.
 *
 * <table>
 *   <caption>pgha meters (Prometheus names)</caption>
 *   <tr><td>{@code pgha_ha_cycle_seconds}</td><td>histogram</td><td>duration of one HA cycle</td></tr>
 *   <tr><td>{@code pgha_ha_decisions_total{reason}}</td><td>counter</td><td>HA decisions by {@link Reason} code</td></tr>
 *   <tr><td>{@code pgha_zookeeper_session_connected}</td><td>gauge</td><td>1 while the session is connected</td></tr>
 *   <tr><td>{@code pgha_zookeeper_reconnects_total}</td><td>counter</td><td>reconnections after a loss</td></tr>
 *   <tr><td>{@code pgha_zookeeper_request_seconds}</td><td>histogram</td><td>ZooKeeper request latency</td></tr>
 *   <tr><td>{@code pgha_seconds_since_leader_change}</td><td>gauge</td><td>computed at scrape time; NaN until a
 *       change was seen</td></tr>
 *   <tr><td>{@code pgha_failovers_total}, {@code pgha_switchovers_total}</td><td>counter</td><td>counted by the
 *       member that promoted itself, so that the sum over the cluster counts each once</td></tr>
 *   <tr><td>{@code pgha_last_failover_duration_seconds}, {@code pgha_last_switchover_duration_seconds}</td>
 *       <td>gauge</td><td>NaN until the first one</td></tr>
 *   <tr><td>{@code pgha_members_claiming_primary}</td><td>gauge</td><td>more than 1: split brain observed</td></tr>
 *   <tr><td>{@code pgha_fencing_guard_armed}, {@code pgha_fencing_guard_up}</td><td>gauge</td><td>the guard holds
 *       a deadline; the guard process runs</td></tr>
 *   <tr><td>{@code pgha_fencing_guard_fires_total}</td><td>counter</td><td>the guard killed postgres</td></tr>
 * </table>
 */
public final class PghaMetrics implements AutoCloseable {
  /** Buckets of the HA cycle histogram: a cycle is a few ms, a promote or a start can take seconds. */
  private static final Duration[] CYCLE_BUCKETS = durations(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000);
  /** Buckets of the ZooKeeper request histogram: sub-ms on a LAN, seconds when the ensemble struggles. */
  private static final Duration[] REQUEST_BUCKETS = durations(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000);

  /** Numbers the registries published to vertx-micrometer, whose names must be unique in the JVM. */
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final PrometheusMeterRegistry registry;
  private final Clock clock;
  private final String registryName;
  private JvmGcMetrics gcMetrics;

  private final Timer haCycle;
  private final Map<String, Counter> decisions = new ConcurrentHashMap<>();
  private final AtomicInteger zookeeperConnected = new AtomicInteger();
  private final Counter zookeeperReconnects;
  private final Timer zookeeperRequest;
  private final AtomicLong leaderChangeEpochMs = new AtomicLong(Long.MIN_VALUE);
  private final Counter failovers;
  private final Counter switchovers;
  private final AtomicLong lastFailoverSecondsBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
  private final AtomicLong lastSwitchoverSecondsBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
  private final AtomicInteger membersClaimingPrimary = new AtomicInteger();
  private final AtomicInteger dynamicConfigInvalid = new AtomicInteger();
  private final Counter dynamicConfigApplied;
  private final AtomicInteger fencingGuardArmed = new AtomicInteger();
  private final AtomicInteger fencingGuardUp = new AtomicInteger();
  private final Counter fencingGuardFires;

  public PghaMetrics(String scope, String name) {
    this(scope, name, Clock.SYSTEM);
  }

  /** @param clock wall time for {@code pgha_seconds_since_leader_change}, and the registry's clock */
  public PghaMetrics(String scope, String name, Clock clock) {
    this(scope, name, clock, true);
  }

  /**
   * The agent's registry without the JVM's meters yet: their binders reach the platform MXBeans (JMX), whose class
   * loading an agent pays after its first HA decision instead of before it ({@link #bindJvmMetrics}).
   */
  public static PghaMetrics jvmMetricsLater(String scope, String name) {
    return new PghaMetrics(scope, name, Clock.SYSTEM, false);
  }

  private PghaMetrics(String scope, String name, Clock clock, boolean jvmMetricsNow) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), clock);
    this.registryName = "pgha-" + INSTANCES.incrementAndGet();
    registry.config().commonTags("scope", nonNull(scope), "name", nonNull(name))
        // Micrometer 1.15's process.cpu.time is a counter of nanoseconds (process_cpu_time_ns_total), which promtool
        // flags; the Prometheus-standard process_cpu_seconds_total below replaces it
        .meterFilter(MeterFilter.deny(id -> "process.cpu.time".equals(id.getName())));

    if (jvmMetricsNow) bindJvmMetrics();

    haCycle = Timer.builder("pgha.ha.cycle")
        .description("Duration of one HA cycle: refresh inputs, decide, act")
        .serviceLevelObjectives(CYCLE_BUCKETS)
        .register(registry);
    for (Reason reason : Reason.values()) {
      decisionCounter(reason.name()); // known codes start at 0, so rate() sees their first decision
    }
    Gauge.builder("pgha.zookeeper.session.connected", zookeeperConnected, AtomicInteger::get)
        .description("1 while the ZooKeeper session is connected, 0 otherwise")
        .strongReference(true)
        .register(registry);
    zookeeperReconnects = Counter.builder("pgha.zookeeper.reconnects")
        .description("ZooKeeper reconnections after the connection was lost")
        .register(registry);
    zookeeperRequest = Timer.builder("pgha.zookeeper.request")
        .description("Latency of ZooKeeper requests")
        .serviceLevelObjectives(REQUEST_BUCKETS)
        .register(registry);
    Gauge.builder("pgha.seconds.since.leader.change", leaderChangeEpochMs, this::secondsSince)
        .description("Seconds since this member last saw the leader change; NaN until it has seen one")
        .strongReference(true)
        .register(registry);
    failovers = Counter.builder("pgha.failovers")
        .description("Failovers completed by this member promoting itself after the leader was lost")
        .register(registry);
    switchovers = Counter.builder("pgha.switchovers")
        .description("Switchovers completed by this member promoting itself on request")
        .register(registry);
    Gauge.builder("pgha.last.failover.duration.seconds", lastFailoverSecondsBits, PghaMetrics::bitsToDouble)
        .description("Duration of the last failover, from losing the leader to the new primary accepting writes;"
            + " NaN until one happened")
        .strongReference(true)
        .register(registry);
    Gauge.builder("pgha.last.switchover.duration.seconds", lastSwitchoverSecondsBits, PghaMetrics::bitsToDouble)
        .description("Duration of the last switchover, from the request to the new primary accepting writes;"
            + " NaN until one happened")
        .strongReference(true)
        .register(registry);
    Gauge.builder("pgha.dynamic.config.invalid", dynamicConfigInvalid, AtomicInteger::get)
        .description("1 while the cluster's config key is not valid JSON and the last valid configuration is kept")
        .strongReference(true)
        .register(registry);
    dynamicConfigApplied = Counter.builder("pgha.dynamic.config.applied")
        .description("Changes of the cluster's config key applied by this member")
        .register(registry);
    Gauge.builder("pgha.members.claiming.primary", membersClaimingPrimary, AtomicInteger::get)
        .description("Members whose member key says they run postgres as primary; more than 1 means split brain")
        .strongReference(true)
        .register(registry);
    Gauge.builder("pgha.fencing.guard.armed", fencingGuardArmed, AtomicInteger::get)
        .description("1 while the fencing guard holds a deadline for this member's primary")
        .strongReference(true)
        .register(registry);
    Gauge.builder("pgha.fencing.guard.up", fencingGuardUp, AtomicInteger::get)
        .description("1 while the fencing guard process runs; 0 when it is off or cannot run")
        .strongReference(true)
        .register(registry);
    fencingGuardFires = Counter.builder("pgha.fencing.guard.fires")
        .description("Times the fencing guard killed this member's postgres because its deadline passed")
        .register(registry);
  }

  /**
   * Turns on Vert.x's Micrometer metrics (HTTP server and client, pools; not the event bus) in {@code options}, recording
   * into this registry. Vert.x 5 has no option that carries a registry: the registry is published to vertx-micrometer
   * under a name of its own, which the options then name. Call it just before creating the {@code Vertx}.
   */
  public static VertxOptions withMetrics(VertxOptions options, PghaMetrics metrics) {
    MicrometerMetricsOptions metricsOptions = new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName(metrics.registryName)
        .setJvmMetricsEnabled(false) // bound here already; twice would be the same meters
        // the event bus only carries the agent's own internal messages (a status per HA cycle): counting them cost
        // an idle agent CPU at every cycle and told an operator nothing
        .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.EVENT_BUS);
    BackendRegistries.setupBackend(metricsOptions, metrics.registry);
    return options.setMetricsOptions(metricsOptions);
  }

  /** One HA cycle took {@code duration}. */
  public void haCycle(Duration duration) {
    haCycle.record(duration);
  }

  /** The HA core decided for {@code reasonCode} (a {@link Reason} name). */
  public void decision(String reasonCode) {
    decisionCounter(reasonCode == null || reasonCode.isEmpty() ? "UNKNOWN" : reasonCode).increment();
  }

  /** The ZooKeeper session is now connected ({@code true}) or not. */
  public void zookeeperConnected(boolean connected) {
    zookeeperConnected.set(connected ? 1 : 0);
  }

  /** The ZooKeeper client connected again after having lost its connection. */
  public void zookeeperReconnect() {
    zookeeperReconnects.increment();
  }

  /** A ZooKeeper request took {@code duration}. */
  public void zookeeperRequest(Duration duration) {
    zookeeperRequest.record(duration);
  }

  /** The leader changed at {@code epochMs} (wall clock). */
  public void leaderChanged(long epochMs) {
    leaderChangeEpochMs.set(epochMs);
  }

  /** A failover completed and took {@code duration}. */
  public void failover(Duration duration) {
    failovers.increment();
    lastFailoverSecondsBits.set(Double.doubleToLongBits(seconds(duration)));
  }

  /** A switchover completed and took {@code duration}. */
  public void switchover(Duration duration) {
    switchovers.increment();
    lastSwitchoverSecondsBits.set(Double.doubleToLongBits(seconds(duration)));
  }

  /**
   * A {@code postgresql.callbacks} command ended: {@code outcome} is {@code OK}, {@code FAILED}, {@code TIMED_OUT},
   * {@code KILLED} (the next callback started) or {@code NOT_STARTED}.
   */
  public void callback(String action, String outcome) {
    Counter.builder("pgha.callbacks")
        .description("postgresql.callbacks commands run, by action and how they ended")
        .tag("action", nonNull(action))
        .tag("outcome", nonNull(outcome).toLowerCase(java.util.Locale.ROOT))
        .register(registry)
        .increment();
  }

  /** {@code count} members currently claim to run as primary (see {@link #countClaimingPrimary}). */
  public void dynamicConfigInvalid(boolean invalid) {
    dynamicConfigInvalid.set(invalid ? 1 : 0);
  }

  public void dynamicConfigApplied() {
    dynamicConfigApplied.increment();
  }

  public void fencingGuardArmed(boolean armed) {
    fencingGuardArmed.set(armed ? 1 : 0);
  }

  public void fencingGuardUp(boolean up) {
    fencingGuardUp.set(up ? 1 : 0);
  }

  public void fencingGuardFired(int times) {
    fencingGuardFires.increment(times);
  }

  public void membersClaimingPrimary(int count) {
    membersClaimingPrimary.set(count);
  }

  /**
   * The members of {@code view} whose member key says they run postgres as primary ({@code role} {@code primary}, or
   * 3.x {@code master}, and a running state), whoever holds the leader key. More than one is a split brain.
   */
  public static int countClaimingPrimary(ClusterView view) {
    if (view == null || view.members() == null) {
      return 0;
    }
    int count = 0;
    for (MemberRecord m : view.members().values()) {
      if (m.isRunning() && ("primary".equals(m.role()) || "master".equals(m.role()))) {
        count++;
      }
    }
    return count;
  }

  /** The registry, text exposition format 0.0.4. */
  public String scrape() {
    return registry.scrape();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Binds the JVM's meters (memory, GC, threads, processor, uptime, process CPU) once; later calls do nothing. */
  public synchronized void bindJvmMetrics() {
    if (gcMetrics != null) return;
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    bindProcessCpuSeconds();
  }

  @Override
  public synchronized void close() {
    if (gcMetrics != null) gcMetrics.close();
    registry.close();
  }

  private void bindProcessCpuSeconds() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os
        && os.getProcessCpuTime() >= 0) {
      FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
          .baseUnit("seconds")
          .description("Total user and system CPU time spent by the JVM process in seconds")
          .register(registry);
    }
  }

  private Counter decisionCounter(String reasonCode) {
    return decisions.computeIfAbsent(reasonCode, code -> Counter.builder("pgha.ha.decisions")
        .description("HA decisions by reason code")
        .tag("reason", code)
        .register(registry));
  }

  private double secondsSince(AtomicLong epochMs) {
    long at = epochMs.get();
    return at == Long.MIN_VALUE ? Double.NaN : Math.max(0, clock.wallTime() - at) / 1000.0;
  }

  private static double bitsToDouble(AtomicLong bits) {
    return Double.longBitsToDouble(bits.get());
  }

  private static double seconds(Duration duration) {
    return duration.toNanos() / 1e9;
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }

  private static Duration[] durations(long... millis) {
    Duration[] out = new Duration[millis.length];
    for (int i = 0; i < millis.length; i++) {
      out[i] = Duration.of(millis[i], ChronoUnit.MILLIS);
    }
    return out;
  }
}
