package io.pgha.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgha.config.ConfigLoader;
import io.pgha.config.PghaConfig;
import io.pgha.ha.HaLoop;
import io.pgha.ha.port.Ports;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * One member's agent process in the simulation: the real {@link HaLoop} (with the real ActionExecutor and HaCore)
 * over the simulated ports. A kill drops it; a start builds a new one, as a new JVM would, which adopts the running
 * postgres.
 */
public final class SimAgent implements SimMember.Agent {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final SimCluster cluster;
  private final SimMember member;
  private final PghaConfig config;
  private final HaLoop.Options options;
  private HaLoop loop;
  private SimDcs dcs;
  private SimPostgresPort pgPort;

  public SimAgent(SimCluster cluster, SimMember member, PghaConfig config, HaLoop.Options options) {
    this.cluster = cluster;
    this.member = member;
    this.config = config;
    this.options = options;
  }

  /** The member's configuration file, as a Patroni YAML. */
  public static PghaConfig config(String name, String scope, int ttlSeconds, int loopWaitSeconds,
      boolean synchronousMode) {
    return config(name, scope, ttlSeconds, loopWaitSeconds, synchronousMode, false);
  }

  public static PghaConfig config(String name, String scope, int ttlSeconds, int loopWaitSeconds,
      boolean synchronousMode, boolean failsafe) {
    String yaml = String.join("\n",
        "scope: " + scope,
        "namespace: /service/",
        "name: " + name,
        "restapi:",
        "  listen: " + name + ":8008",
        "  connect_address: " + name + ":8008",
        "zookeeper:",
        "  hosts: [zk:2181]",
        "bootstrap:",
        "  dcs:",
        "    ttl: " + ttlSeconds,
        "    loop_wait: " + loopWaitSeconds,
        "    retry_timeout: " + Math.max(1, (ttlSeconds - loopWaitSeconds) / 2),
        "    maximum_lag_on_failover: 1048576",
        "    synchronous_mode: " + synchronousMode,
        "    failsafe_mode: " + failsafe,
        "    postgresql:",
        "      use_pg_rewind: true",
        "      use_slots: true",
        "postgresql:",
        "  listen: " + name + ":5432",
        "  connect_address: " + name + ":5432",
        "  data_dir: /nonexistent/sim/" + name,
        "  authentication:",
        "    replication: {username: replicator, password: rep-pass}",
        "    superuser: {username: postgres, password: secret}",
        "    rewind: {username: rewind_user, password: rewind-pass}",
        "");
    try {
      ObjectNode tree = (ObjectNode) YAML.readTree(yaml);
      return ConfigLoader.fromTree(tree, configured -> Path.of("/usr/lib/postgresql/15/bin"));
    } catch (Exception e) {
      throw new IllegalStateException("simulation config: " + e.getMessage(), e);
    }
  }

  public HaLoop loop() {
    return loop;
  }

  @Override
  public void start() {
    SimScheduler sched = cluster.scheduler();
    SimClock clock = member.clock();
    SimCluster.Config cfg = cluster.config();
    dcs = new SimDcs(cluster.zk(), clock, member.name(), cfg.base(), cfg.sessionTimeoutMs(), cfg.zkLatencyMsMax());
    member.zk(dcs.client());
    dcs.readFailsafe(io.pgha.config.DynamicConfigJson.parse(config.bootstrap().dcs()).failsafeMode());
    pgPort = new SimPostgresPort(clock, member.pg(), cluster.postgres()::get, sched);
    pgPort.peerNames(cluster.postgres().keySet());
    Ports ports = new Ports(new SimPorts.ClockPort(clock), dcs, pgPort,
        new SimPorts.PeersPort(sched, clock, cluster.members()::get, member.name()),
        new SimPorts.FencePort(sched, clock, member.guard(), member.pg()),
        new SimPorts.ReporterPort(sched, member), new SimPorts.HooksPort(),
        () -> CompletableFuture.completedFuture(config));
    HaLoop l = new HaLoop(config, ports, options);
    loop = l;
    dcs.sinks(l::onView, l::onHealth);
    pgPort.sink(l::onPostmaster);
    sched.log(member.name() + " agent starts");
    clock.deliver(() -> dcs.start().thenCompose(v -> l.start()).whenComplete((v, e) -> {
      if (e != null && loop == l) {
        sched.log(member.name() + " agent start failed: " + e.getMessage() + "; restarting it in 5 s");
        member.killAgent();
        sched.after(5000, member.name() + " agent restarted after a failed start", member::startAgent);
      }
    }));
  }

  @Override
  public void killed() {
    if (dcs != null) dcs.abandon();
    if (pgPort != null) pgPort.close();
    loop = null;
  }
}
