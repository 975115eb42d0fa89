package io.pgha.ha.vertx;

import io.pgha.config.DynamicConfig;
import io.pgha.config.HostPort;
import io.pgha.config.PghaConfig;
import io.pgha.config.PostgresqlConfig;
import io.pgha.decision.Action;
import io.pgha.decision.SlotPlan;
import io.pgha.decision.SyncPlanner;
import io.pgha.ha.port.Postgres;
import io.pgha.postgres.ConfigFiles;
import io.pgha.postgres.PgLocal;
import io.pgha.postgres.PgParameters;
import io.pgha.postgres.PgStatus;
import io.pgha.postgres.PostgresSupervisor;
import io.pgha.postgres.SlotFiles;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** The {@link Postgres} port over {@link PostgresSupervisor} (the postmaster, files, tools) and {@link PgLocal} (SQL). */
final class SupervisorPort implements Postgres {
  private final Vertx vertx;
  private final Context ctx;
  private final PghaConfig config;
  private final PostgresSupervisor supervisor;
  private final PgLocal pgLocal;

  SupervisorPort(Vertx vertx, Context ctx, PghaConfig config, PostgresSupervisor supervisor) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.config = config;
    this.supervisor = supervisor;
    this.pgLocal = new PgLocal(vertx, config.postgresql());
  }

  private <T> CompletionStage<T> on(Future<T> future) {
    return OnContext.of(ctx, future);
  }

  /** ProcessHandle.isAlive: a syscall on a /proc entry, no file read worth a worker. */
  @Override public boolean postmasterAlive() { return supervisor.postmasterAlive(); }

  @Override public long postmasterPid() { return supervisor.postmasterPid(); }

  /** Reads postmaster.pid: on a worker. */
  @Override
  public CompletionStage<String> readiness() {
    return OnContext.blocking(ctx, supervisor::readinessStatus);
  }

  @Override public CompletionStage<Boolean> adoptRunning() { return on(supervisor.adoptRunning()); }

  @Override
  public CompletionStage<DataDir> inspectDataDir() {
    return on(supervisor.inspectDataDir().map(i -> new DataDir(i.state(), i.sysid(), i.cleanShutdown(),
        i.latestCheckpointLsn())));
  }

  @Override
  public CompletionStage<PgStatus> status() {
    return on(pgLocal.status().timeout(2, TimeUnit.SECONDS));
  }

  @Override
  public Map<String, String> parameters(PghaConfig current, DynamicConfig dynamic) {
    String socketDir = PostgresqlConfig.defaultSocketDirectory();
    // asked every cycle (is postgresql.conf still what we would write?): computed again only when an input changed
    Parameters last = lastParameters;
    if (last == null || last.config() != current || !last.dynamic().equals(dynamic)
        || !last.socketDir().equals(socketDir)) {
      last = new Parameters(current, dynamic, socketDir,
          java.util.Collections.unmodifiableMap(PgParameters.effective(current.postgresql(), dynamic, current.scope(),
              socketDir)), dynamicPgHba(dynamic));
      lastParameters = last;
    }
    // every write of postgresql.conf asks for the parameters first: the dynamic pg_hba goes along with them
    supervisor.dynamicPgHba(last.pgHba());
    return last.params();
  }

  /** The inputs and result of the last {@link #parameters} (touched on the loop's context only). */
  private record Parameters(PghaConfig config, DynamicConfig dynamic, String socketDir, Map<String, String> params,
      List<String> pgHba) {}

  private Parameters lastParameters;

  /** {@code postgresql.pg_hba} of the dynamic configuration: a list of lines (or one line), null when not set. */
  static List<String> dynamicPgHba(DynamicConfig cfg) {
    return io.pgha.config.DynamicConfigJson.pgHba(cfg);
  }


  @Override
  public Written lastWritten() {
    PostgresSupervisor.WrittenConfig w = supervisor.lastWritten();
    if (w == null) return null;
    return new Written(w.params(), Objects.equals(w.pgHba(), supervisor.effectivePgHba()));
  }

  private static ConfigFiles.Recovery files(Recovery r) {
    return r == null ? null : new ConfigFiles.Recovery(r.host(), r.port(), r.slotName(),
        r.restoreCommand(), r.archiveCleanupCommand(), r.recoveryMinApplyDelay());
  }

  @Override
  public CompletionStage<Boolean> start(Map<String, String> params, Recovery recovery) {
    return on(supervisor.start(params, files(recovery)));
  }

  @Override
  public CompletionStage<Void> stop(Action.StopMode mode, long escalateAfterMs) {
    return on(supervisor.stop(mode, escalateAfterMs));
  }

  @Override public CompletionStage<Void> initdb() { return on(supervisor.initdb()); }

  @Override
  public CompletionStage<Void> createBootstrapRoles() {
    return on(pgLocal.run(supervisor.bootstrapRoleStatements()));
  }

  @Override public CompletionStage<Void> postBootstrapScript() { return on(supervisor.postBootstrapScript()); }

  @Override
  public CompletionStage<Void> moveDataDirAside() {
    return OnContext.blocking(ctx, () -> {
      var dataDir = config.postgresql().dataDir();
      if (Files.exists(dataDir)) {
        Files.move(dataDir, dataDir.resolveSibling(dataDir.getFileName() + ".failed"),
            StandardCopyOption.REPLACE_EXISTING);
      }
      return null;
    });
  }

  @Override
  public CompletionStage<Void> basebackup(HostPort source) {
    return on(supervisor.basebackup(source.host(), source.port()));
  }

  @Override
  public CompletionStage<Void> crashRecovery(Map<String, String> params) {
    return on(supervisor.crashRecovery(params));
  }

  @Override
  public CompletionStage<Void> rewind(HostPort source, boolean dryRun) {
    return on(supervisor.rewind(source.host(), source.port(), dryRun));
  }

  @Override public CompletionStage<Void> wipeDataDir() { return on(supervisor.wipeDataDir()); }

  @Override
  public CompletionStage<Void> writeConfig(Map<String, String> params, Recovery recovery) {
    return on(supervisor.writeConfig(params, files(recovery)));
  }

  @Override public CompletionStage<Void> reload() { return on(pgLocal.reload()); }

  @Override public CompletionStage<Void> promote() { return on(pgLocal.promote()); }

  @Override public CompletionStage<Void> checkpoint() { return on(pgLocal.checkpoint()); }

  @Override
  public CompletionStage<List<SlotPlan.Existing>> replicationSlots() {
    return on(pgLocal.replicationSlots().timeout(5, TimeUnit.SECONDS));
  }

  @Override
  public CompletionStage<List<SlotPlan.Failure>> applySlotOps(List<SlotPlan.Op> ops) {
    return on(pgLocal.applySlotOps(ops));
  }

  @Override
  public CompletionStage<Map<String, byte[]>> readLogicalSlotStates(HostPort leader, List<String> names) {
    return on(PgLocal.logicalSlotStates(vertx, config.postgresql(), leader.host(), leader.port(), names)
        .timeout(10, TimeUnit.SECONDS));
  }

  @Override
  public CompletionStage<Void> writeSlotStates(Map<String, byte[]> states) {
    return OnContext.blocking(ctx, () -> {
      SlotFiles.write(config.postgresql().dataDir(), states);
      return null;
    });
  }

  @Override
  public CompletionStage<String> timelineHistory(int timeline) {
    return on(pgLocal.timelineHistory(timeline));
  }

  @Override
  public CompletionStage<Map<String, PendingSetting>> pendingRestart() {
    return on(pgLocal.pendingRestart().map(pending -> {
      Map<String, PendingSetting> out = new LinkedHashMap<>();
      pending.forEach((name, p) -> out.put(name, new PendingSetting(p.oldValue(), p.newValue())));
      return out;
    }));
  }

  @Override
  public CompletionStage<SyncSnapshot> syncSnapshot() {
    return on(pgLocal.syncSnapshot().map(snap -> new SyncSnapshot(snap.standbys().stream()
        .map(r -> new SyncPlanner.Standby(r.applicationName(), r.state(), r.syncState(), r.flushLsn())).toList(),
        snap.primaryFlushLsn(), snap.synchronousStandbyNames())));
  }

  @Override public CompletionStage<Void> nudgeWal() { return on(pgLocal.nudgeWal()); }

  @Override
  public CompletionStage<Long> receivedLsn(HostPort member) {
    return on(PgLocal.receivedLsn(vertx, config.postgresql(), member.host(), member.port()));
  }

  @Override
  public CompletionStage<WalPosition> identifySystem(HostPort member) {
    return on(supervisor.identifySystem(member.host(), member.port()).map(p -> new WalPosition(p.timeline(), p.lsn())));
  }

  @Override
  public CompletionStage<LeaderTimeline> leaderTimeline(HostPort leader) {
    return on(supervisor.leaderTimeline(leader.host(), leader.port())
        .map(t -> new LeaderTimeline(t.timeline(), t.history())));
  }

  @Override public void close() { pgLocal.close(); }
}
