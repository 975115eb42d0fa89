package io.pgha.ha;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.DynamicConfig;
import io.pgha.config.PghaConfig;
import io.pgha.dcs.DcsHealth;
import io.pgha.decision.ClusterView;
import io.pgha.decision.LocalState;
import io.pgha.decision.NodeSettings;
import io.pgha.ha.port.Clock;
import io.pgha.postgres.PgStatus;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Everything the HA loop remembers between two inputs, in one immutable record: {@link HaLoop} holds the only
 * reference and replaces it on every change.
 *
 * @param config this member's configuration file as last (re)loaded; only parameters and tags change on a reload
 * @param lastSlots the slots last made or checked; null: unknown, look again
 * @param keyReleased our session deleted its leader key and has not taken it again: a view that still shows it is older
 * @param lastValidConfig the cluster's configuration in force: the last {@code config} that parsed (§8.3); null: bootstrap's
 * @param leavingSync §4.6: this synchronous standby asked to leave the sync set (published nosync) because it is about to stop
 * @param notStreamingSinceMs when the walreceiver was first seen not streaming (monotonic ms), 0 while it streams
 * @param ssnNames the standbys this primary last named in synchronous_standby_names
 * @param syncLeft completes when this standby has left the sync set (the view no longer lists it) or gave up waiting
 * @param slotWork the slot change in flight: one at a time, so a takeover's early creation and the leader's duty do not race
 * @param pendingRestartReason {@code {"guc": {"old_value": .., "new_value": ..}}}, or null when no restart is pending
 */
public record LoopState(
    PghaConfig config,
    NodeSettings settings,
    LocalState local,
    ClusterView view,
    DcsHealth health,
    PgStatus pgStatus,
    boolean heartbeatFailing,
    long cycle,
    boolean cycleRunning,
    boolean rerunRequested,
    long nextLoopDueEpochMs,
    String lastMemberJson,
    long lastPublishedOptime,
    Set<String> lastSlots,
    boolean keyReleased,
    String lastDecisionLine,
    boolean checkpointPending,
    boolean everConnected,
    long leaderLostAtMs,
    long switchoverRequestedAtMs,
    NodeStatus lastStatus,
    DynamicConfig lastValidConfig,
    String configError,
    boolean leavingSync,
    io.pgha.decision.ScheduledRestart scheduledRestart,
    ObjectNode pendingRestartReason,
    boolean timelineCheckRunning,
    String lastTimelineCheckKey,
    long lastTimelineCheckAtMs,
    String lastTimelineCheckLeader,
    String lastTimelineCheckError,
    long notStreamingSinceMs,
    long streamingWatch,
    Set<String> ssnNames,
    long ssnChangedAtLsn,
    int settleChecks,
    Clock.Timer loopTimer,
    Clock.Timer heartbeatTimer,
    Clock.Timer streamingTimer,
    Clock.Timer scheduledRestartTimer,
    Clock.Timer pendingRestartTimer,
    Clock.Timer syncLeaveTimer,
    CompletableFuture<Void> syncLeft,
    long syncLeaveDeadlineMs,
    CompletableFuture<Void> slotWork) {
  /** The state before the first input. */
  public static LoopState initial(PghaConfig config, NodeSettings settings, LocalState local) {
    return new Builder().config(config).settings(settings).local(local).build();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.config = config;
    b.settings = settings;
    b.local = local;
    b.view = view;
    b.health = health;
    b.pgStatus = pgStatus;
    b.heartbeatFailing = heartbeatFailing;
    b.cycle = cycle;
    b.cycleRunning = cycleRunning;
    b.rerunRequested = rerunRequested;
    b.nextLoopDueEpochMs = nextLoopDueEpochMs;
    b.lastMemberJson = lastMemberJson;
    b.lastPublishedOptime = lastPublishedOptime;
    b.lastSlots = lastSlots;
    b.keyReleased = keyReleased;
    b.lastDecisionLine = lastDecisionLine;
    b.checkpointPending = checkpointPending;
    b.everConnected = everConnected;
    b.leaderLostAtMs = leaderLostAtMs;
    b.switchoverRequestedAtMs = switchoverRequestedAtMs;
    b.lastStatus = lastStatus;
    b.lastValidConfig = lastValidConfig;
    b.configError = configError;
    b.leavingSync = leavingSync;
    b.scheduledRestart = scheduledRestart;
    b.pendingRestartReason = pendingRestartReason;
    b.timelineCheckRunning = timelineCheckRunning;
    b.lastTimelineCheckKey = lastTimelineCheckKey;
    b.lastTimelineCheckAtMs = lastTimelineCheckAtMs;
    b.lastTimelineCheckLeader = lastTimelineCheckLeader;
    b.lastTimelineCheckError = lastTimelineCheckError;
    b.notStreamingSinceMs = notStreamingSinceMs;
    b.streamingWatch = streamingWatch;
    b.ssnNames = ssnNames;
    b.ssnChangedAtLsn = ssnChangedAtLsn;
    b.settleChecks = settleChecks;
    b.loopTimer = loopTimer;
    b.heartbeatTimer = heartbeatTimer;
    b.streamingTimer = streamingTimer;
    b.scheduledRestartTimer = scheduledRestartTimer;
    b.pendingRestartTimer = pendingRestartTimer;
    b.syncLeaveTimer = syncLeaveTimer;
    b.syncLeft = syncLeft;
    b.syncLeaveDeadlineMs = syncLeaveDeadlineMs;
    b.slotWork = slotWork;
    return b;
  }

  public static final class Builder {
    private PghaConfig config = null;
    private NodeSettings settings = null;
    private LocalState local = null;
    private ClusterView view = null;
    private DcsHealth health = null;
    private PgStatus pgStatus = null;
    private boolean heartbeatFailing = false;
    private long cycle = 0;
    private boolean cycleRunning = false;
    private boolean rerunRequested = false;
    private long nextLoopDueEpochMs = 0;
    private String lastMemberJson = null;
    private long lastPublishedOptime = -1;
    private Set<String> lastSlots = null;
    private boolean keyReleased = false;
    private String lastDecisionLine = null;
    private boolean checkpointPending = false;
    private boolean everConnected = false;
    private long leaderLostAtMs = 0;
    private long switchoverRequestedAtMs = 0;
    private NodeStatus lastStatus = null;
    private DynamicConfig lastValidConfig = null;
    private String configError = null;
    private boolean leavingSync = false;
    private io.pgha.decision.ScheduledRestart scheduledRestart = null;
    private ObjectNode pendingRestartReason = null;
    private boolean timelineCheckRunning = false;
    private String lastTimelineCheckKey = null;
    private long lastTimelineCheckAtMs = 0;
    private String lastTimelineCheckLeader = null;
    private String lastTimelineCheckError = null;
    private long notStreamingSinceMs = 0;
    private long streamingWatch = 0;
    private Set<String> ssnNames = Set.of();
    private long ssnChangedAtLsn = 0;
    private int settleChecks = 0;
    private Clock.Timer loopTimer = null;
    private Clock.Timer heartbeatTimer = null;
    private Clock.Timer streamingTimer = null;
    private Clock.Timer scheduledRestartTimer = null;
    private Clock.Timer pendingRestartTimer = null;
    private Clock.Timer syncLeaveTimer = null;
    private CompletableFuture<Void> syncLeft = null;
    private long syncLeaveDeadlineMs = 0;
    private CompletableFuture<Void> slotWork = CompletableFuture.completedFuture(null);

    public Builder config(PghaConfig v) {
      config = v;
      return this;
    }

    public Builder settings(NodeSettings v) {
      settings = v;
      return this;
    }

    public Builder local(LocalState v) {
      local = v;
      return this;
    }

    public Builder view(ClusterView v) {
      view = v;
      return this;
    }

    public Builder health(DcsHealth v) {
      health = v;
      return this;
    }

    public Builder pgStatus(PgStatus v) {
      pgStatus = v;
      return this;
    }

    public Builder heartbeatFailing(boolean v) {
      heartbeatFailing = v;
      return this;
    }

    public Builder cycle(long v) {
      cycle = v;
      return this;
    }

    public Builder cycleRunning(boolean v) {
      cycleRunning = v;
      return this;
    }

    public Builder rerunRequested(boolean v) {
      rerunRequested = v;
      return this;
    }

    public Builder nextLoopDueEpochMs(long v) {
      nextLoopDueEpochMs = v;
      return this;
    }

    public Builder lastMemberJson(String v) {
      lastMemberJson = v;
      return this;
    }

    public Builder lastPublishedOptime(long v) {
      lastPublishedOptime = v;
      return this;
    }

    public Builder lastSlots(Set<String> v) {
      lastSlots = v;
      return this;
    }

    public Builder keyReleased(boolean v) {
      keyReleased = v;
      return this;
    }

    public Builder lastDecisionLine(String v) {
      lastDecisionLine = v;
      return this;
    }

    public Builder checkpointPending(boolean v) {
      checkpointPending = v;
      return this;
    }

    public Builder everConnected(boolean v) {
      everConnected = v;
      return this;
    }

    public Builder leaderLostAtMs(long v) {
      leaderLostAtMs = v;
      return this;
    }

    public Builder switchoverRequestedAtMs(long v) {
      switchoverRequestedAtMs = v;
      return this;
    }

    public Builder lastStatus(NodeStatus v) {
      lastStatus = v;
      return this;
    }

    public Builder lastValidConfig(DynamicConfig v) {
      lastValidConfig = v;
      return this;
    }

    public Builder configError(String v) {
      configError = v;
      return this;
    }

    public Builder leavingSync(boolean v) {
      leavingSync = v;
      return this;
    }

    public Builder scheduledRestart(io.pgha.decision.ScheduledRestart v) {
      scheduledRestart = v;
      return this;
    }

    public Builder pendingRestartReason(ObjectNode v) {
      pendingRestartReason = v;
      return this;
    }

    public Builder timelineCheckRunning(boolean v) {
      timelineCheckRunning = v;
      return this;
    }

    public Builder lastTimelineCheckKey(String v) {
      lastTimelineCheckKey = v;
      return this;
    }

    public Builder lastTimelineCheckAtMs(long v) {
      lastTimelineCheckAtMs = v;
      return this;
    }

    public Builder lastTimelineCheckLeader(String v) {
      lastTimelineCheckLeader = v;
      return this;
    }

    public Builder lastTimelineCheckError(String v) {
      lastTimelineCheckError = v;
      return this;
    }

    public Builder notStreamingSinceMs(long v) {
      notStreamingSinceMs = v;
      return this;
    }

    public Builder streamingWatch(long v) {
      streamingWatch = v;
      return this;
    }

    public Builder ssnNames(Set<String> v) {
      ssnNames = v;
      return this;
    }

    public Builder ssnChangedAtLsn(long v) {
      ssnChangedAtLsn = v;
      return this;
    }

    public Builder settleChecks(int v) {
      settleChecks = v;
      return this;
    }

    public Builder loopTimer(Clock.Timer v) {
      loopTimer = v;
      return this;
    }

    public Builder heartbeatTimer(Clock.Timer v) {
      heartbeatTimer = v;
      return this;
    }

    public Builder streamingTimer(Clock.Timer v) {
      streamingTimer = v;
      return this;
    }

    public Builder scheduledRestartTimer(Clock.Timer v) {
      scheduledRestartTimer = v;
      return this;
    }

    public Builder pendingRestartTimer(Clock.Timer v) {
      pendingRestartTimer = v;
      return this;
    }

    public Builder syncLeaveTimer(Clock.Timer v) {
      syncLeaveTimer = v;
      return this;
    }

    public Builder syncLeft(CompletableFuture<Void> v) {
      syncLeft = v;
      return this;
    }

    public Builder syncLeaveDeadlineMs(long v) {
      syncLeaveDeadlineMs = v;
      return this;
    }

    public Builder slotWork(CompletableFuture<Void> v) {
      slotWork = v;
      return this;
    }

    public LoopState build() {
      return new LoopState(config, settings, local, view, health, pgStatus, heartbeatFailing, cycle, cycleRunning, rerunRequested, nextLoopDueEpochMs, lastMemberJson, lastPublishedOptime, lastSlots, keyReleased, lastDecisionLine, checkpointPending, everConnected, leaderLostAtMs, switchoverRequestedAtMs, lastStatus, lastValidConfig, configError, leavingSync, scheduledRestart, pendingRestartReason, timelineCheckRunning, lastTimelineCheckKey, lastTimelineCheckAtMs, lastTimelineCheckLeader, lastTimelineCheckError, notStreamingSinceMs, streamingWatch, ssnNames, ssnChangedAtLsn, settleChecks, loopTimer, heartbeatTimer, streamingTimer, scheduledRestartTimer, pendingRestartTimer, syncLeaveTimer, syncLeft, syncLeaveDeadlineMs, slotWork);
    }
  }
}
