package io.pgha.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code demote-cluster [CLUSTER] [--host H] [--port P] [--restore-command C] [--primary-slot-name S] [--force]} and
 * {@code promote-cluster [CLUSTER] [--force]} (patronictl 4.1, §7.9): {@code PATCH /config} with the
 * {@code standby_cluster} section (or null) on the leader, then a look at ZooKeeper every second until the leader key
 * holder runs with the target role (and, for a demotion, the old leader runs again).
 */
final class ClusterRoleCommand {
  private static final long POLL_MS = 1_000;
  /** patronictl waits without end (Ctrl-C); pghactl gives up after this, saying so. */
  private static final long WAIT_LIMIT_MS = 10 * 60_000L;

  private ClusterRoleCommand() {}

  static int demote(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .flag("force", "--force")
        .value("host", "--host")
        .value("port", "--port")
        .value("restore_command", "--restore-command")
        .value("primary_slot_name", "--primary-slot-name"), args).atMost(1);
    String host = parsed.value("host");
    String port = parsed.value("port");
    String restore = parsed.value("restore_command");
    String slot = parsed.value("primary_slot_name");
    Integer portNumber = null;
    if (port != null && !port.isEmpty()) {
      try {
        portNumber = Integer.parseInt(port.trim());
      } catch (NumberFormatException e) {
        throw CtlException.usage("Invalid value for '--port': '" + port + "' is not a valid integer.");
      }
    }
    if (isEmpty(host) && (portNumber == null || portNumber == 0) && isEmpty(restore)) {
      throw new CtlException("At least --host, --port or --restore-command should be specified");
    }
    ObjectNode standby = JsonNodeFactory.instance.objectNode();
    if (!isEmpty(host)) standby.put("host", host);
    if (portNumber != null && portNumber != 0) standby.put("port", portNumber);
    if (!isEmpty(slot)) standby.put("primary_slot_name", slot);
    if (!isEmpty(restore)) standby.put("restore_command", restore);
    return change(ctx, parsed.first(), parsed.flag("force"), standby);
  }

  static int promote(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec().flag("force", "--force"), args).atMost(1);
    return change(ctx, parsed.first(), parsed.flag("force"), null);
  }

  private static boolean isEmpty(String s) {
    return s == null || s.isEmpty();
  }

  /** patronictl's {@code change_cluster_role}. */
  private static int change(CtlContext ctx, String name, boolean force, ObjectNode standby) throws CtlException {
    boolean demote = standby != null;
    String actionName = demote ? "demot" : "promot";
    String targetRole = demote ? "standby_leader" : "primary";
    String clusterName = ctx.clusterName(name);
    ClusterSnapshot cluster = ctx.cluster(clusterName);
    Member leader = cluster.leader() == null ? null : cluster.leaderMember().orElse(null);
    if (cluster.leader() == null) {
      throw new CtlException("Cluster has no leader, " + actionName + "ion is not possible");
    }
    String leaderName = cluster.leader();
    if (leader != null && targetRole.equals(leader.role())) {
      throw new CtlException("Cluster is already in the required state");
    }
    ctx.echo("Current cluster topology");
    ctx.printMembers(cluster, clusterName, false, ClusterTable.Format.PRETTY);
    if (!force && !ctx.prompts.confirm("Are you sure you want to " + actionName + "e " + clusterName + " cluster?")) {
      throw new CtlException("Aborted cluster " + actionName + "ion");
    }
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    if (demote) body.set("standby_cluster", standby);
    else body.putNull("standby_cluster");
    String failed = "Failed to " + actionName + "e " + clusterName + " cluster: ";
    if (leader == null) throw new CtlException(failed + "the leader " + leaderName + " has no member key");
    PatroniRest.Response r;
    try {
      r = ctx.rest().request(leader, "PATCH", "config", body);
    } catch (IOException e) {
      throw new CtlException(failed + e.getMessage());
    }
    if (r.status() != 200) {
      throw new CtlException(failed + "/config PATCH status code=" + r.status() + ", (" + r.body() + ")");
    }
    long deadline = System.nanoTime() + WAIT_LIMIT_MS * 1_000_000L;
    while (true) {
      cluster = ctx.cluster(clusterName);
      Optional<Member> holder = cluster.leader() == null ? Optional.empty() : cluster.leaderMember();
      boolean unlocked = cluster.leader() == null;
      String role = holder.map(Member::role).orElse(null);
      String state = holder.map(Member::state).orElse(null);
      String oldState = cluster.member(leaderName).map(Member::state).orElse(null);
      if (!unlocked && targetRole.equals(role) && "running".equals(state)
          && (!demote || "running".equals(oldState))) {
        ctx.echo(ctx.timestamp(0) + " cluster is successfully " + actionName + "ed");
        break;
      }
      List<String> parts = new ArrayList<>(List.of(ctx.timestamp(0) + " cluster is unlocked: " + Py.str(unlocked),
          "leader role: " + Py.str(role), "leader state: " + Py.str(state)));
      if (demote && !unlocked && !leaderName.equals(cluster.leader()) && oldState != null) {
        parts.add("previous leader state: '" + oldState + "'");
      }
      ctx.echo(String.join(", ", parts));
      if (System.nanoTime() > deadline) {
        throw new CtlException("the cluster was not " + actionName + "ed after " + WAIT_LIMIT_MS / 1000 + " s");
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw CtlException.aborted();
      }
    }
    ctx.printMembers(cluster, clusterName, false, ClusterTable.Format.PRETTY);
    return 0;
  }
}
