package io.pgha.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every key of Patroni's YAML (patroni-compat §8.2, §8.3 for {@code bootstrap.dcs}) and what pgha does with it:
 * honoured, honoured differently, or not supported. At start the agent names, in one warning, each key of its file
 * that it does not honour (not supported, or unknown to pgha), so that none is ignored silently.
 */
public final class KeyCoverage {
  public enum Support { HONOURED, DIFFERENTLY, NOT_SUPPORTED }

  /**
   * @param key dotted path; {@code *} stands for any one key
   * @param opaque the value is taken as a whole (its own keys are not checked: GUCs, tags, options)
   */
  public record Entry(String key, Support support, boolean opaque, String note) {}

  private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

  private static void honoured(String key, String note) {
    ENTRIES.put(key, new Entry(key, Support.HONOURED, false, note));
  }

  private static void whole(String key, String note) {
    ENTRIES.put(key, new Entry(key, Support.HONOURED, true, note));
  }

  private static void differently(String key, String note) {
    ENTRIES.put(key, new Entry(key, Support.DIFFERENTLY, true, note));
  }

  private static void unsupported(String key, String note) {
    ENTRIES.put(key, new Entry(key, Support.NOT_SUPPORTED, true, note));
  }

  static {
    honoured("scope", "");
    honoured("namespace", "");
    honoured("name", "");
    unsupported("thread_pool_size", "the REST API runs on Vert.x event loops, there is no thread pool to size");
    unsupported("log", "pgha logs to standard output in its own format; its level is set with the logback "
        + "configuration, not with log.*");
    unsupported("ttl", "as Patroni: taken from the dynamic configuration only (bootstrap.dcs or edit-config)");
    unsupported("loop_wait", "as Patroni: taken from the dynamic configuration only");
    unsupported("retry_timeout", "as Patroni: taken from the dynamic configuration only");

    honoured("restapi", "");
    for (String k : List.of("listen", "connect_address", "certfile", "keyfile", "keyfile_password", "cafile",
        "verify_client", "allowlist", "allowlist_include_members")) {
      honoured("restapi." + k, "");
    }
    honoured("restapi.authentication", "");
    honoured("restapi.authentication.username", "");
    honoured("restapi.authentication.password", "");
    unsupported("restapi.ciphers", "the JVM's default TLS cipher suites are used");
    unsupported("restapi.http_extra_headers", "");
    unsupported("restapi.https_extra_headers", "");
    unsupported("restapi.request_queue_size", "the listen backlog is the JVM's default");
    unsupported("restapi.server_tokens", "pgha's Server header is fixed");
    unsupported("restapi.thread_pool_size", "Vert.x event loops, no thread pool");

    whole("ctl", "read by pghactl (authentication, insecure, cacert, certfile, keyfile), not by the agent");

    honoured("zookeeper", "");
    honoured("zookeeper.hosts", "a list or \"h1:p1,h2:p2\"");
    honoured("zookeeper.use_ssl", "TLS to the servers (Netty client); a `PATRONI_ZOOKEEPER_USE_SSL=false` is off, "
        + "where Patroni takes any non-empty text as on");
    honoured("zookeeper.cacert", "PEM; without it, the JVM's trusted CAs (and then the server's host name is checked)");
    honoured("zookeeper.cert", "PEM client certificate; may hold the key too");
    honoured("zookeeper.key", "PEM: PKCS#8 (plain or encrypted), PKCS#1 RSA or SEC1 EC; checked against cert at start");
    honoured("zookeeper.key_password", "decrypts an encrypted PKCS#8 key");
    differently("zookeeper.verify", "true (the default) only: `false` is refused at start, the server certificate "
        + "is always checked");
    whole("zookeeper.set_acls", "{principal: [permissions]} as Patroni: the ACL of every znode pgha, pghactl and the "
        + "event stream create; `scheme:id` principals, else x509");
    whole("zookeeper.auth_data", "{scheme: credential} added to every session (`digest: user:password`)");
    honoured("kubernetes", "beside zookeeper: the pod role labels (pgha sets them itself, no callback script);"
        + " alone, as the DCS: not supported (an error)");
    honoured("kubernetes.labels", "set on the pod together with the role label");
    honoured("kubernetes.role_label", "default `role`");
    honoured("kubernetes.leader_label_value", "default `primary` (Patroni 4.x)");
    honoured("kubernetes.follower_label_value", "default `replica`");
    honoured("kubernetes.standby_leader_label_value", "default `primary` (Patroni 4.x)");
    honoured("kubernetes.tmp_role_label", "set to `primary` on the leader, else the member's role");
    honoured("kubernetes.namespace", "the pod's namespace; default `POD_NAMESPACE`, then the service account's");
    honoured("kubernetes.cacert", "the CA of the API server's certificate; default the service account's");
    honoured("kubernetes.api_url", "pgha's own key, for tests and out-of-cluster runs: the API server's URL;"
        + " default `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` with the service account's token"
        + " and CA. The pod is `POD_NAME` (downward API), else `name`");
    for (String k : List.of("use_endpoints", "scope_label", "pod_ip", "ports", "bypass_api_service",
        "retriable_http_codes", "context")) {
      unsupported("kubernetes." + k, "the Kubernetes API as DCS is not supported: pgha keeps its state in ZooKeeper");
    }
    for (String dcs : List.of("etcd", "etcd3", "consul", "raft", "exhibitor")) {
      unsupported(dcs, "pgha supports only ZooKeeper (without a zookeeper section this is an error)");
    }

    honoured("bootstrap", "");
    honoured("bootstrap.dcs", "written to the config key by the member that initializes the cluster");
    for (String k : List.of("ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "maximum_lag_on_syncnode",
        "primary_start_timeout", "master_start_timeout", "primary_stop_timeout", "master_stop_timeout",
        "synchronous_mode_strict", "synchronous_node_count", "check_timeline", "pause")) {
      honoured("bootstrap.dcs." + k, "");
    }
    differently("bootstrap.dcs.synchronous_mode", "on/off/quorum as Patroni; mode on's pre-promote step is Patroni 3.x's");
    honoured("bootstrap.dcs.postgresql", "");
    honoured("bootstrap.dcs.postgresql.use_pg_rewind", "");
    honoured("bootstrap.dcs.postgresql.use_slots", "");
    whole("bootstrap.dcs.postgresql.parameters", "protected GUCs validated as Patroni (§8.6)");
    whole("bootstrap.dcs.postgresql.pg_hba", "written to pg_hba.conf (and reloaded on change) when the member has no "
        + "postgresql.pg_hba of its own, as Patroni merges the dynamic postgresql section under the local one");
    unsupported("bootstrap.dcs.postgresql.pg_ident", "pg_ident.conf is not written");
    unsupported("bootstrap.dcs.postgresql.recovery_conf", "no extra recovery settings are written");
    honoured("bootstrap.dcs.failsafe_mode", "the failsafe key restricts the leader race whatever the mode says now"
        + " (Patroni: only while it is on); the leader empties it when the mode is off");
    unsupported("bootstrap.dcs.max_timelines_history", "the history key keeps every timeline");
    honoured("bootstrap.dcs.member_slots_ttl", "as Patroni 4.0: default 30min; 0: only slots of members streaming from here");
    unsupported("bootstrap.dcs.primary_race_backoff", "");
    whole("bootstrap.dcs.slots", "permanent physical and logical slots, kept on failover-capable members (§10.4)");
    whole("bootstrap.dcs.permanent_slots", "alias of slots");
    whole("bootstrap.dcs.permanent_replication_slots", "alias of slots");
    whole("bootstrap.dcs.ignore_slots", "matchers by name, type, database, plugin");
    honoured("bootstrap.dcs.standby_cluster", "the key holder is a standby leader following the remote primary,"
        + " the others cascade from it (§10.3); pghactl demote-cluster/promote-cluster change it");
    for (String k : List.of("host", "port", "primary_slot_name", "restore_command", "archive_cleanup_command",
        "recovery_min_apply_delay")) {
      honoured("bootstrap.dcs.standby_cluster." + k, "");
    }
    differently("bootstrap.dcs.standby_cluster.create_replica_methods", "only basebackup (the others are named in a"
        + " warning)");
    differently("bootstrap.method", "only initdb (the default); custom bootstrap methods are not supported");
    whole("bootstrap.initdb", "options as Patroni's process_user_options; forbidden ones refused");
    whole("bootstrap.pg_hba", "appended to initdb's pg_hba.conf");
    honoured("bootstrap.post_bootstrap", "split as a POSIX shell does (shlex), then the DSN");
    honoured("bootstrap.post_init", "alias of post_bootstrap");
    unsupported("bootstrap.users", "removed in Patroni 3.0 too");

    honoured("postgresql", "");
    for (String k : List.of("listen", "connect_address", "proxy_address", "data_dir", "config_dir", "bin_dir",
        "database", "pgpass", "pg_hba", "use_pg_rewind", "use_unix_socket", "remove_data_directory_on_rewind_failure",
        "remove_data_directory_on_diverged_timelines")) {
      honoured("postgresql." + k, "");
    }
    whole("postgresql.parameters", "protected GUCs dropped from the local file, as Patroni does");
    whole("postgresql.basebackup", "pg_basebackup options as Patroni's; the ones pgha sets are skipped");
    differently("postgresql.pg_ctl_timeout", "pgha starts and stops the postmaster itself, not through pg_ctl: the "
        + "timeout bounds the start-up wait and the stop before escalation");
    differently("postgresql.use_unix_socket_repl", "accepted: pgha makes no replication connection to its own "
        + "postgres (pg_basebackup and primary_conninfo go to other members over TCP)");
    differently("postgresql.create_replica_methods", "only [basebackup] (the default); other methods are not "
        + "supported");
    honoured("postgresql.authentication", "");
    for (String user : List.of("superuser", "replication", "rewind")) {
      honoured("postgresql.authentication." + user, "");
      honoured("postgresql.authentication." + user + ".username", "");
      honoured("postgresql.authentication." + user + ".password", "in the pgpass file for the tools");
      for (String k : Credentials.LIBPQ_KEYS) {
        if (k.equals("sslpassword")) {
          differently("postgresql.authentication." + user + "." + k, "passed to pg_basebackup, pg_rewind and "
              + "primary_conninfo; the agent's own client reads only unencrypted keys");
        } else {
          honoured("postgresql.authentication." + user + "." + k, "agent connections, peers' probes, "
              + "pg_basebackup, pg_rewind, primary_conninfo");
        }
      }
      unsupported("postgresql.authentication." + user + ".sslnegotiation", "");
    }
    honoured("postgresql.callbacks", "split as a POSIX shell does (shlex)");
    for (String action : List.of("on_start", "on_stop", "on_restart", "on_reload", "on_role_change")) {
      honoured("postgresql.callbacks." + action, "");
    }
    unsupported("postgresql.bin_name", "binaries have their standard names in bin_dir");
    unsupported("postgresql.config_base_name", "the files are postgresql.conf and postgresql.base.conf");
    unsupported("postgresql.custom_conf", "postgresql.base.conf is always the included base");
    unsupported("postgresql.pg_ident", "pg_ident.conf is not written");
    unsupported("postgresql.recovery_conf", "no extra recovery settings (restore_command...) are written");
    honoured("postgresql.pre_promote", "waited for at most ttl (Patroni waits without limit)");
    honoured("postgresql.before_stop", "waited for at most ttl/2; its failure is logged and the stop goes on");
    unsupported("postgresql.rewind", "no extra pg_rewind options");
    unsupported("postgresql.krbsrvname", "");
    unsupported("postgresql.use_slots", "as Patroni: taken from the dynamic configuration only");
    for (String role : List.of("primary", "replica", "standby_leader")) {
      unsupported("postgresql.parameters_" + role, "per-role parameters (Patroni HEAD) are not implemented");
      unsupported("postgresql.pg_hba_" + role, "per-role pg_hba (Patroni HEAD) is not implemented");
      unsupported("postgresql.pg_ident_" + role, "");
    }

    honoured("watchdog", "");
    honoured("watchdog.mode", "off, automatic, required; off does not turn off pgha's fencing guard");
    differently("watchdog.device", "kicked by the fencing guard while it is armed; its timeout is read from "
        + "/sys/class/watchdog, not set (no ioctl): a device whose timeout is longer than ttl - safety_margin is "
        + "not used; untested here (no device on the test machines)");
    honoured("watchdog.safety_margin", "");
    honoured("pgha", "pgha's own section (Patroni ignores it)");
    honoured("pgha.fencing_guard", "the fencing guard, on by default (env PGHA_FENCING_GUARD)");
    honoured("pgha.zookeeper_tick_time", "the ensemble's tickTime in ms (default: the servers' answer to the conf "
        + "four-letter word, else 2000): the session asked for is ttl less two ticks, so that a dead leader's key is "
        + "gone by ttl");
    honoured("pgha.runtime_dir", "where the guard keeps its log and marker (default: beside the data directory)");
    whole("tags", "nofailover, failover_priority, noloadbalance, clonefrom, nosync, sync_priority, nostream, "
        + "replicatefrom and custom tags");
    unsupported("citus", "Citus is not supported");
  }

  private KeyCoverage() {}

  /** The table, in a stable order: Patroni's sections as §8.2 lists them. */
  public static List<Entry> entries() {
    return List.copyOf(ENTRIES.values());
  }

  /**
   * The keys of {@code tree} (the merged configuration) that pgha does not honour: those marked not supported,
   * those outside the table (custom bootstrap methods, misspellings), and non-default values of
   * {@code bootstrap.method} and {@code postgresql.create_replica_methods}. Dotted, in file order.
   */
  public static List<String> unhonoured(JsonNode tree) {
    List<String> out = new ArrayList<>();
    walk("", tree, out);
    return out;
  }

  private static void walk(String prefix, JsonNode node, List<String> out) {
    if (node == null || !node.isObject()) return;
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String key = prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey();
      JsonNode value = field.getValue();
      Entry entry = ENTRIES.get(key);
      if (entry == null) {
        out.add(key + " (unknown to pgha)");
      } else if (entry.support() == Support.NOT_SUPPORTED) {
        out.add(key);
      } else if (key.equals("bootstrap.method")) {
        if (!value.asText().equals("initdb")) out.add(key + " (" + value.asText() + ")");
      } else if (key.equals("postgresql.create_replica_methods")) {
        boolean onlyBasebackup = value.isArray() ? value.size() == 1 && value.get(0).asText().equals("basebackup")
            : value.asText().equals("basebackup");
        if (!onlyBasebackup) out.add(key + " (" + value + ")");
      } else if (!entry.opaque()) {
        walk(key, value, out);
      }
    }
  }

  /** The one warning line for the keys {@link #unhonoured} found, or null when there are none. */
  public static String warning(List<String> keys) {
    if (keys.isEmpty()) return null;
    return "configuration keys pgha does not honour (ignored; see the README's table of Patroni keys): "
        + String.join(", ", keys);
  }

  /** The table as Markdown, for the README. */
  public static String markdown() {
    StringBuilder out = new StringBuilder("| key | pgha | how |\n|---|---|---|\n");
    for (Entry e : ENTRIES.values()) {
      String support = switch (e.support()) {
        case HONOURED -> "honoured";
        case DIFFERENTLY -> "honoured differently";
        case NOT_SUPPORTED -> "not supported (warned at start)";
      };
      out.append("| `").append(e.key()).append("` | ").append(support).append(" | ").append(e.note()).append(" |\n");
    }
    return out.toString();
  }
}
