package io.pgha.postgres;

import io.pgha.config.PostgresqlConfig;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Questions asked over a replication connection as the replication user ({@code IDENTIFY_SYSTEM},
 * {@code TIMELINE_HISTORY}), with psql on the supervisor's worker pool (part of {@link PostgresSupervisor}).
 */
final class ReplicationQueries {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresSupervisor.class);

  private final PostgresqlConfig pg;
  private final WorkerExecutor longTasks;

  ReplicationQueries(PostgresqlConfig pg, WorkerExecutor longTasks) {
    this.pg = pg;
    this.longTasks = longTasks;
  }

  /**
   * The leader's current timeline ({@code IDENTIFY_SYSTEM}) and history ({@code TIMELINE_HISTORY}), asked over a
   * replication connection as the replication user, with the pgpass pg_basebackup uses. This is the authority on
   * where the leader's timeline forked: the {@code history} znode is written by the new leader only a cycle after it
   * promoted, may be truncated (max_timelines_history), and may still be an older leader's.
   */
  Future<PostgresSupervisor.LeaderTimeline> leaderTimeline(String host, int port) {
    return blocking(() -> {
      ConfigFiles.writePgpass(pg);
      String dsn = replicationDsn(host, port);
      String identify = replicationCommand(dsn, "IDENTIFY_SYSTEM");
      String[] fields = identify.strip().split("\\|");
      int timeline;
      try {
        timeline = Integer.parseInt(fields[1].trim());
      } catch (RuntimeException e) {
        throw new IOException("IDENTIFY_SYSTEM on " + host + ":" + port + " answered " + identify.strip());
      }
      if (timeline <= 1) return new PostgresSupervisor.LeaderTimeline(timeline, "");
      String answer = replicationCommand(dsn, "TIMELINE_HISTORY " + timeline);
      int bar = answer.indexOf('|');
      if (bar < 0) throw new IOException("TIMELINE_HISTORY " + timeline + " on " + host + ":" + port + " answered "
          + answer.strip());
      return new PostgresSupervisor.LeaderTimeline(timeline, answer.substring(bar + 1));
    });
  }

  /**
   * {@code IDENTIFY_SYSTEM} on a postgres, over a replication connection as the replication user. On a standby it
   * answers the timeline and position of max(flushed receive, replay) read together, where pg_stat_wal_receiver's
   * {@code received_tli} and the written position may disagree for a moment around a timeline switch.
   */
  Future<PostgresSupervisor.WalPosition> identifySystem(String host, int port) {
    return blocking(() -> {
      ConfigFiles.writePgpass(pg);
      String answer = replicationCommand(replicationDsn(host, port), "IDENTIFY_SYSTEM");
      String[] fields = answer.strip().split("\\|");
      try {
        return new PostgresSupervisor.WalPosition(Integer.parseInt(fields[1].trim()), Lsn.parse(fields[2].trim()));
      } catch (RuntimeException e) {
        throw new IOException("IDENTIFY_SYSTEM on " + host + ":" + port + " answered " + answer.strip());
      }
    });
  }

  private String replicationDsn(String host, int port) {
    // the replication user's libpq keys (sslmode, sslcert...) as for pg_basebackup: a TLS-only pg_hba refuses others
    return PgConnections.conninfo(host, port, pg.replication(), pg.database())
        + " replication=1 connect_timeout=3 application_name=pgha-timeline-check";
  }

  private String replicationCommand(String dsn, String command) throws IOException {
    ProcessRunner.Result r = ProcessRunner.run(List.of(bin("psql"), "-XAtq", "-v", "ON_ERROR_STOP=1", dsn, "-c", command),
        Map.of("PGPASSFILE", pg.pgpass().toString(), "LC_ALL", "C"), Duration.ofSeconds(10));
    if (!r.ok()) {
      // psql's first line names the error; a HINT or DETAIL may follow
      String error = r.output().strip().lines().findFirst().orElse("exit code " + r.exitCode());
      throw new IOException(command.split(" ")[0] + " failed: " + error);
    }
    return r.output();
  }

  private String bin(String name) {
    return pg.binDir().resolve(name).toString();
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return longTasks.executeBlocking(work, false);
  }
}
