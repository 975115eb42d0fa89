package io.pgha.postgres;

import io.pgha.config.PostgresqlConfig;
import io.pgha.decision.SlotPlan;
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
  private final Vertx vertx;
  private final PostgresqlConfig pg;

  public PgLocal(Vertx vertx, PostgresqlConfig pg) {
    this.vertx = vertx;
    this.pg = pg;
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

  private static final String SLOTS_SQL = "SELECT slot_name::text, slot_type::text, database::text, plugin::text,"
      + " COALESCE((restart_lsn - '0/0')::bigint, 0), COALESCE((confirmed_flush_lsn - '0/0')::bigint, 0),"
      + " to_jsonb(s) ->> 'wal_status', active, xmin IS NOT NULL FROM pg_replication_slots s WHERE NOT temporary";

  /** The non-temporary slots, as {@link SlotPlan} reads them. */
  public Future<List<SlotPlan.Existing>> replicationSlots() {
    return pool.query(SLOTS_SQL).execute().map(rows -> {
      List<SlotPlan.Existing> out = new ArrayList<>();
      for (Row r : rows) {
        out.add(new SlotPlan.Existing(r.getString(0), r.getString(1), r.getString(2), r.getString(3), r.getLong(4),
            r.getLong(5), r.getString(6), r.getBoolean(7), r.getBoolean(8)));
      }
      return out;
    });
  }

  /** Applies the slot changes one after the other; the answer has one entry per change that failed. */
  public Future<List<SlotPlan.Failure>> applySlotOps(List<SlotPlan.Op> ops) {
    List<SlotPlan.Failure> failures = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (SlotPlan.Op op : ops) {
      if (op instanceof SlotPlan.Copy) continue;
      chain = chain.compose(v -> apply(op).otherwise(e -> {
        String state = e instanceof io.vertx.pgclient.PgException pe ? pe.getSqlState() : null;
        failures.add(new SlotPlan.Failure(op, describe(op) + ": " + e.getMessage(),
            "58P01".equals(state) || "55000".equals(state)));
        return null;
      }));
    }
    return chain.map(v -> failures);
  }

  private Future<Void> apply(SlotPlan.Op op) {
    if (op instanceof SlotPlan.Drop d) {
      return pool.preparedQuery("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
          + " WHERE slot_name = $1 AND NOT active").execute(Tuple.of(d.slot())).mapEmpty();
    } else if (op instanceof SlotPlan.CreatePhysical c) {
      return pool.preparedQuery("SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS"
          + " (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)").execute(Tuple.of(c.slot())).mapEmpty();
    } else if (op instanceof SlotPlan.CreateLogical c) {
      return inDatabase(c.database(), "SELECT pg_create_logical_replication_slot($1, $2) WHERE NOT EXISTS"
          + " (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)", Tuple.of(c.slot(), c.plugin()));
    } else if (op instanceof SlotPlan.Advance a) {
      String sql = "SELECT pg_replication_slot_advance($1, $2::pg_lsn)";
      Tuple args = Tuple.of(a.slot(), Lsn.format(a.lsn()));
      return a.database() == null ? pool.preparedQuery(sql).execute(args).mapEmpty() : inDatabase(a.database(), sql, args);
    }
    return Future.succeededFuture();
  }

  /** A logical slot is made and advanced from a connection to its own database. */
  private Future<Void> inDatabase(String database, String sql, Tuple args) {
    PgConnectOptions connect = PgConnections.options(pg, pg.superuser(), pg.localConnectHost(), pg.port())
        .setDatabase(database);
    connect.addProperty("application_name", "pgha");
    io.vertx.sqlclient.SqlClient client = PgBuilder.client().with(new NetClientOptions().setConnectTimeout(2000))
        .connectingTo(connect).using(vertx).build();
    return client.preparedQuery(sql).execute(args).<Void>mapEmpty().eventually(() -> client.close());
  }

  private static String describe(SlotPlan.Op op) {
    if (op instanceof SlotPlan.Drop d) return "dropping replication slot " + d.slot() + " (" + d.why() + ")";
    if (op instanceof SlotPlan.CreatePhysical c) return "creating physical replication slot " + c.slot();
    if (op instanceof SlotPlan.CreateLogical c) {
      return "creating logical replication slot " + c.slot() + " (" + c.database() + ", " + c.plugin() + ")";
    }
    if (op instanceof SlotPlan.Advance a) return "advancing replication slot " + a.slot() + " to " + Lsn.format(a.lsn());
    return op.toString();
  }

  /**
   * The state files of these logical slots on another member's postgres (the primary), as Patroni's
   * {@code copy_logical_slots} reads them: {@code pg_read_binary_file('pg_replslot/<name>/state')}.
   */
  public static Future<Map<String, byte[]>> logicalSlotStates(Vertx vertx, PostgresqlConfig pg, String host, int port,
      List<String> names) {
    PgConnectOptions connect = PgConnections.options(pg, pg.superuser(), host, port);
    io.vertx.sqlclient.SqlClient client = PgBuilder.client().with(new NetClientOptions().setConnectTimeout(2000))
        .connectingTo(connect).using(vertx).build();
    return client.preparedQuery("SELECT slot_name::text, pg_read_binary_file('pg_replslot/' || slot_name || '/state')"
            + " FROM pg_replication_slots WHERE NOT pg_is_in_recovery() AND slot_type = 'logical'"
            + " AND slot_name = ANY($1)")
        .execute(Tuple.of(names.toArray(new String[0]))).map(rows -> {
          Map<String, byte[]> out = new java.util.TreeMap<>();
          for (Row r : rows) out.put(r.getString(0), r.getBuffer(1).getBytes());
          return out;
        }).eventually(() -> client.close());
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
