package io.pgha.postgres;

import io.pgha.config.PostgresqlConfig;
import io.pgha.model.NodeStatus.ReplicationRow;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SQL against the local postgres as the superuser, over the non-blocking Vert.x PG client: the status query behind
 * every HA cycle and {@code /patroni}, promote, reload, slots and the bootstrap roles.
 */
public final class PgLocal implements AutoCloseable {
  private static final String STATUS_SQL = """
      SELECT pg_is_in_recovery() AS in_recovery,
        CASE WHEN pg_is_in_recovery() THEN 0 ELSE (pg_current_wal_flush_lsn() - '0/0')::bigint END AS flush_lsn,
        COALESCE((pg_last_wal_receive_lsn() - '0/0')::bigint, 0) AS receive_lsn,
        COALESCE((pg_last_wal_replay_lsn() - '0/0')::bigint, 0) AS replay_lsn,
        pg_last_xact_replay_timestamp()::text AS replay_ts,
        CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS replay_paused,
        CASE WHEN pg_is_in_recovery()
          THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver),
                        (SELECT timeline_id FROM pg_control_checkpoint()))
          ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline,
        (SELECT system_identifier FROM pg_control_system())::text AS sysid,
        pg_postmaster_start_time()::text AS start_time,
        current_setting('server_version_num')::int AS server_version,
        (SELECT status FROM pg_stat_wal_receiver) AS wal_receiver_status,
        COALESCE((SELECT (written_lsn - '0/0')::bigint FROM pg_stat_wal_receiver), 0) AS written_lsn
      """;
  private static final String REPLICATION_SQL = "SELECT usename::text, application_name, client_addr::text, state,"
      + " sync_state, sync_priority FROM pg_stat_replication ORDER BY application_name";

  private final Pool pool;

  public PgLocal(Vertx vertx, PostgresqlConfig pg) {
    PgConnectOptions connect = PgConnections.options(pg, pg.superuser(), pg.localConnectHost(), pg.port())
        .setReconnectAttempts(0);
    connect.addProperty("application_name", "pgha");
    this.pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(2).setIdleTimeout(30).setConnectionTimeout(3))
        .with(new NetClientOptions().setConnectTimeout(2000))
        .connectingTo(connect).using(vertx).build();
  }

  /**
   * The WAL position another member's postgres has received, asked over SQL (not its /patroni, which changes only
   * once per HA cycle): a switchover waits on it.
   */
  public static Future<Long> receivedLsn(Vertx vertx, PostgresqlConfig pg, String host, int port) {
    PgConnectOptions connect = PgConnections.options(pg, pg.superuser(), host, port);
    io.vertx.sqlclient.SqlClient client = PgBuilder.client().with(new NetClientOptions().setConnectTimeout(1000))
        .connectingTo(connect).using(vertx).build();
    return client.query("SELECT (COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn(), '0/0') - '0/0')::bigint")
        .execute().map(rows -> rows.iterator().next().getLong(0))
        .eventually(() -> client.close());
  }

  public Future<PgStatus> status() {
    return pool.query(STATUS_SQL).execute().compose(rows -> {
      Row r = rows.iterator().next();
      boolean inRecovery = r.getBoolean("in_recovery");
      long receive = Math.max(r.getLong("receive_lsn"), r.getLong("written_lsn"));
      Future<List<ReplicationRow>> replication = inRecovery ? Future.succeededFuture(List.of()) : replication();
      return replication.map(repl -> new PgStatus(inRecovery, r.getLong("flush_lsn"), receive, r.getLong("replay_lsn"),
          r.getString("replay_ts"), r.getBoolean("replay_paused"), r.getInteger("timeline"), r.getString("sysid"),
          r.getString("start_time"), r.getInteger("server_version"), r.getString("wal_receiver_status"), repl));
    });
  }

  private Future<List<ReplicationRow>> replication() {
    return pool.query(REPLICATION_SQL).execute().map(rows -> {
      List<ReplicationRow> out = new ArrayList<>();
      for (Row r : rows) {
        out.add(new ReplicationRow(r.getString(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4),
            r.getInteger(5) == null ? 0 : r.getInteger(5)));
      }
      return out;
    });
  }

  /** Promotes and waits (up to 60 s) until postgres accepts writes. */
  public Future<Void> promote() {
    return pool.query("SELECT pg_promote(true, 60)").execute().compose(rows -> {
      Boolean done = rows.iterator().next().getBoolean(0);
      return Boolean.TRUE.equals(done) ? Future.succeededFuture()
          : Future.failedFuture("pg_promote did not finish within 60 s");
    });
  }

  public Future<Void> reload() {
    return pool.query("SELECT pg_reload_conf()").execute().mapEmpty();
  }

  /**
   * §8.7: the GUCs waiting for a restart, with the value in force and the one the configuration files ask for
   * (by name, sorted). A reload must have been processed first. Recovery settings are left out, as Patroni leaves
   * them out: they change with the role (a promotion drops them) and the HA loop restarts for them when needed.
   */
  public Future<Map<String, PendingRestart>> pendingRestart() {
    return pool.query("SELECT s.name, current_setting(s.name), f.setting FROM pg_settings s LEFT JOIN LATERAL"
        + " (SELECT setting FROM pg_file_settings WHERE name = s.name ORDER BY seqno DESC LIMIT 1)"
        + " f ON true WHERE s.pending_restart AND s.name NOT LIKE 'recovery_target%' AND s.name NOT IN"
        + " ('primary_conninfo', 'primary_slot_name', 'restore_command', 'archive_cleanup_command',"
        + " 'recovery_end_command', 'recovery_min_apply_delay', 'promote_trigger_file', 'hot_standby')"
        + " ORDER BY s.name").execute().map(rows -> {
          Map<String, PendingRestart> out = new java.util.TreeMap<>();
          for (Row r : rows) out.put(r.getString(0), new PendingRestart(r.getString(1), r.getString(2)));
          return out;
        });
  }

  /** One GUC that needs a restart: the value in force, and the one the files set (null when unknown). */
  public record PendingRestart(String oldValue, String newValue) {}

  /**
   * §4.2: what the sync planner needs of {@code pg_stat_replication}, and the primary's flush position. A standby's
   * position is the one its acknowledgement waits for, as Patroni picks it: replay with {@code synchronous_commit =
   * remote_apply}, write with {@code remote_write}, flush otherwise (so a standby whose replay is paused lags only
   * when commits wait for replay).
   */
  public Future<SyncSnapshot> syncSnapshot() {
    return pool.query("SELECT application_name, state, sync_state, COALESCE(pg_wal_lsn_diff("
        + "CASE current_setting('synchronous_commit') WHEN 'remote_apply' THEN replay_lsn"
        + " WHEN 'remote_write' THEN write_lsn ELSE flush_lsn END, '0/0'), 0)"
        + "::bigint, pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint,"
        + " current_setting('synchronous_standby_names') FROM pg_stat_replication RIGHT JOIN (SELECT 1) one ON true")
        .execute().map(rows -> {
          List<StandbyRow> standbys = new ArrayList<>();
          long primaryFlush = 0;
          String ssn = "";
          for (Row r : rows) {
            primaryFlush = r.getLong(4);
            ssn = r.getString(5);
            if (r.getString(0) != null) {
              standbys.add(new StandbyRow(r.getString(0), r.getString(1), r.getString(2), r.getLong(3)));
            }
          }
          return new SyncSnapshot(standbys, primaryFlush, ssn);
        });
  }

  public record StandbyRow(String applicationName, String state, String syncState, long flushLsn) {}

  public record SyncSnapshot(List<StandbyRow> standbys, long primaryFlushLsn, String synchronousStandbyNames) {}

  /** A tiny WAL write that synchronous standbys must confirm, so a newly listed one shows as {@code sync} at once. */
  public Future<Void> nudgeWal() {
    return pool.withConnection(c -> c.query("SET synchronous_commit = off").execute()
        .compose(x -> c.query("SELECT txid_current()").execute())
        .compose(x -> c.query("RESET synchronous_commit").execute())).mapEmpty();
  }

  public Future<Void> checkpoint() {
    return pool.query("CHECKPOINT").execute().mapEmpty();
  }

  /** Creates missing physical slots and drops physical slots of members that are gone. */
  public Future<Void> syncPhysicalSlots(Set<String> wanted) {
    return pool.query("SELECT slot_name::text FROM pg_replication_slots WHERE slot_type = 'physical'"
        + " AND NOT temporary").execute().compose(rows -> {
          Set<String> existing = new java.util.HashSet<>();
          rows.forEach(r -> existing.add(r.getString(0)));
          List<Future<RowSet<Row>>> changes = new ArrayList<>();
          for (String slot : wanted) {
            if (!existing.contains(slot)) {
              changes.add(pool.preparedQuery("SELECT pg_create_physical_replication_slot($1, true)")
                  .execute(Tuple.of(slot)));
            }
          }
          for (String slot : existing) {
            if (!wanted.contains(slot)) {
              changes.add(pool.preparedQuery("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                  + " WHERE slot_name = $1 AND NOT active").execute(Tuple.of(slot)));
            }
          }
          return Future.all(changes).mapEmpty();
        });
  }

  /** The text of {@code pg_wal/<timeline>.history}, or null. */
  public Future<String> timelineHistory(int timeline) {
    String file = String.format("pg_wal/%08X.history", timeline);
    return pool.preparedQuery("SELECT pg_read_file($1, 0, 1048576, true)").execute(Tuple.of(file))
        .map(rows -> rows.iterator().next().getString(0));
  }

  /** Runs statements one after the other (bootstrap role creation). */
  public Future<Void> run(List<String> statements) {
    Future<Void> chain = Future.succeededFuture();
    for (String sql : statements) chain = chain.compose(v -> pool.query(sql).execute().mapEmpty());
    return chain;
  }

  @Override
  public void close() {
    pool.close();
  }
}
