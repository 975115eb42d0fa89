package io.pgha.postgres;

import io.pgha.model.NodeStatus.ReplicationRow;
import java.util.List;

/** One status query of the local postgres; what the HA loop and /patroni need. */
public record PgStatus(
    boolean inRecovery,
    long flushLsn,
    long receiveLsn,
    long replayLsn,
    String replayTimestamp,
    boolean replayPaused,
    int timeline,
    String systemIdentifier,
    String postmasterStartTime,
    int serverVersion,
    String walReceiverStatus,
    List<ReplicationRow> replication) {

  /** What Patroni publishes as {@code xlog_location}: flush LSN on a primary, max(receive, replay) on a replica. */
  public long xlogLocation() {
    return inRecovery ? Math.max(receiveLsn, replayLsn) : flushLsn;
  }
}
