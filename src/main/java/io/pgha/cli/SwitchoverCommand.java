package io.pgha.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.api.Schedules;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * {@code switchover [CLUSTER] [--leader|--primary|--master L] [--candidate C] [--scheduled TS] [--force]} and
 * {@code failover [CLUSTER] [--candidate C] [--force]} (§7.3): checks the names against the cluster in ZooKeeper,
 * asks for what is missing, then {@code POST /switchover} or {@code /failover} to the leader; writes the
 * {@code failover} key directly when no member answers.
 */
final class SwitchoverCommand {
  private SwitchoverCommand() {}

  static int run(CtlContext ctx, List<String> args, boolean failover) throws CtlException {
    CtlArgs.Spec spec = new CtlArgs.Spec()
        .value("leader", "--leader", "--primary", "--master")
        .value("candidate", "--candidate")
        .value("group", "--group")
        .flag("force", "--force");
    if (!failover) {
      spec.value("scheduled", "--scheduled");
    }
    CtlArgs parsed = CtlArgs.parse(spec, args).atMost(1);
    String clusterName = ctx.clusterName(parsed.first());
    // patronictl 3: a failover naming the leader is a switchover
    String action = failover && parsed.value("leader") == null ? "failover" : "switchover";
    return switchover(ctx, clusterName, action, parsed.value("leader"), parsed.value("candidate"),
        parsed.flag("force"), parsed.value("scheduled"));
  }

  private static int switchover(CtlContext ctx, String clusterName, String action, String leader, String candidate,
      boolean force, String scheduled) throws CtlException {
    ClusterSnapshot cluster = ctx.cluster(clusterName);
    ctx.echo("Current cluster topology");
    ctx.printMembers(cluster, clusterName, false, ClusterTable.Format.PRETTY);
    Member holder = Members.leader(cluster);
    if (action.equals("switchover") && holder == null) {
      throw new CtlException("This cluster has no leader");
    }
    if (leader == null) {
      if (force || action.equals("failover")) {
        leader = holder == null ? null : holder.name();
      } else {
        leader = ctx.prompts.prompt(cluster.standbyCluster() ? "Standby Leader" : "Primary", holder.name());
      }
    }
    if (leader != null && holder != null && !holder.name().equals(leader)) {
      throw new CtlException("Member " + leader + " is not the leader of cluster " + clusterName);
    }
    String exclude = leader;
    List<String> candidates = cluster.members().stream()
        .filter(m -> !m.name().equals(exclude) && !ClusterSnapshot.parseBool(m.data().path("tags").get("nofailover")))
        .map(Member::name).sorted().toList();
    if (candidates.isEmpty()) {
      throw new CtlException("No candidates found to " + action + " to");
    }
    if (candidate == null && !force) {
      candidate = ctx.prompts.prompt("Candidate " + pythonList(candidates), "");
    }
    if (action.equals("failover") && (candidate == null || candidate.isEmpty())) {
      throw new CtlException("Failover could be performed only to a specific candidate");
    }
    if (candidate != null && candidate.isEmpty()) {
      candidate = null;
    }
    if (candidate != null && candidate.equals(leader)) {
      throw new CtlException("Member " + candidate + " is already the leader of cluster " + clusterName);
    }
    if (candidate != null && !candidates.contains(candidate)) {
      throw new CtlException("Member " + candidate + " does not exist in cluster " + clusterName
          + " or is tagged as nofailover");
    }
    if (action.equals("failover") && syncMode(cluster) && !cluster.syncStandbys().contains(candidate) && !force
        && !ctx.prompts.confirm("Are you sure you want to failover to the asynchronous node " + candidate + "?")) {
      throw new CtlException("Aborting " + action);
    }

    OffsetDateTime scheduledAt = null;
    if (action.equals("switchover")) {
      if (scheduled == null && !force) {
        scheduled = ctx.prompts.prompt("When should the switchover take place (e.g. " + Members.nextHour(ctx)
            + " ) ", "now");
      }
      scheduledAt = Members.scheduled(ctx, scheduled);
      if (scheduledAt != null && cluster.paused()) {
        throw new CtlException("Can't schedule switchover in the paused state");
      }
    }
    String scheduledText = scheduledAt == null ? null : Schedules.isoformat(scheduledAt);

    if (!force) {
      String demote = leader != null ? ", demoting current leader " + leader : "";
      if (scheduledText != null) {
        if (!ctx.prompts.confirm("Are you sure you want to schedule " + action + " of cluster " + clusterName
            + " at " + scheduledText + demote + "?")) {
          throw new CtlException("Aborting scheduled " + action);
        }
      } else if (!ctx.prompts.confirm("Are you sure you want to " + action + " cluster " + clusterName + demote
          + "?")) {
        throw new CtlException("Aborting " + action);
      }
    }

    ObjectNode body = JsonNodeFactory.instance.objectNode();
    if (action.equals("switchover")) {
      body.put("leader", leader);
    }
    body.put("candidate", candidate);
    if (scheduledText != null) {
      body.put("scheduled_at", scheduledText);
    }
    Member target = holder != null ? holder : cluster.member(candidate).orElse(null);
    try {
      if (target == null) {
        throw new IOException("no member to ask");
      }
      PatroniRest.Response response = ctx.rest().request(target, "POST", action, body);
      if (response.status() == 501 && action.equals("switchover")
          && response.body().contains("Server does not support this operation")) {
        response = ctx.rest().request(target, "POST", "failover", body);
      }
      if (response.status() == 200 || response.status() == 202) {
        cluster = ctx.cluster(clusterName);
        ctx.echo(ctx.timestamp(6) + " " + response.body());
      } else {
        ctx.echo(capitalize(action) + " failed, details: " + response.status() + ", " + response.body());
        return 1;
      }
    } catch (IOException e) {
      ctx.echo(ctx.timestamp(6) + " Could not " + action + " using Patroni api, falling back to DCS");
      writeFailoverKey(ctx, clusterName, leader, candidate, scheduledText);
    }
    ctx.printMembers(cluster, clusterName, false, ClusterTable.Format.PRETTY);
    return 0;
  }

  /** patronictl's {@code manual_failover}: the request goes straight into the {@code failover} key. */
  private static void writeFailoverKey(CtlContext ctx, String clusterName, String leader, String candidate,
      String scheduledAt) throws CtlException {
    ObjectNode value = JsonNodeFactory.instance.objectNode();
    if (leader != null) {
      value.put("leader", leader);
    }
    if (candidate != null) {
      value.put("member", candidate);
    }
    if (scheduledAt != null) {
      value.put("scheduled_at", scheduledAt);
    }
    ctx.zk("write the failover key", zk -> {
      zk.set(ctx.basePath(clusterName) + "/failover", value.toString());
      return null;
    });
  }

  private static boolean syncMode(ClusterSnapshot cluster) {
    return cluster.config() != null && !cluster.standbyCluster()
        && (ClusterSnapshot.parseBool(cluster.config().get("synchronous_mode"))
            || "quorum".equals(cluster.config().path("synchronous_mode").asText()));
  }

  /** Python's {@code str(list)} of names: {@code ['a', 'b']}. */
  static String pythonList(List<String> names) {
    return "[" + String.join(", ", names.stream().map(n -> "'" + n.replace("'", "\\'") + "'").toList()) + "]";
  }

  private static String capitalize(String word) {
    return Character.toUpperCase(word.charAt(0)) + word.substring(1);
  }
}
