package io.pgha.cli;

import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.io.IOException;
import java.util.List;

/**
 * {@code flush CLUSTER [MEMBER...] restart|switchover [-r ROLE] [--force]} (§7.8): {@code DELETE /restart} on the
 * members with a scheduled restart, or {@code DELETE /switchover} to the leader (then the others); when nobody
 * answers, the {@code failover} key is cleared directly with compare-and-set.
 */
final class FlushCommand {
  private FlushCommand() {}

  static int run(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .value("role", "-r", "--role")
        .value("group", "--group")
        .flag("force", "--force"), args);
    List<String> positional = parsed.positional();
    if (positional.size() < 2) {
      throw CtlException.usage(positional.isEmpty() ? "Missing argument 'CLUSTER_NAME'."
          : "Missing argument '{restart|switchover}'.");
    }
    String clusterName = positional.get(0);
    String target = positional.get(positional.size() - 1);
    if (!target.equals("restart") && !target.equals("switchover")) {
      throw CtlException.usage("Invalid value for '{restart|switchover}': '" + target
          + "' is not one of 'restart', 'switchover'.");
    }
    List<String> names = positional.subList(1, positional.size() - 1); // click gives the last one to the target
    String role = Members.role(parsed, "any");
    ClusterSnapshot cluster = ctx.cluster(clusterName);
    return target.equals("restart")
        ? flushRestarts(ctx, cluster, clusterName, names, role, parsed.flag("force"))
        : flushSwitchover(ctx, cluster, clusterName);
  }

  private static int flushRestarts(CtlContext ctx, ClusterSnapshot cluster, String clusterName, List<String> names,
      String role, boolean force) throws CtlException {
    int exitCode = 0;
    for (Member member : Members.select(ctx, cluster, clusterName, names, role, force, "flush", true)) {
      if (!member.data().hasNonNull("scheduled_restart")) {
        ctx.echo("No scheduled restart for member " + member.name());
        continue;
      }
      try {
        PatroniRest.Response r = ctx.rest().request(member, "DELETE", "restart", null);
        if (r.status() >= 400) {
          ctx.echo("Failed: flush scheduled restart for member " + member.name() + ", status code=" + r.status()
              + ", (" + r.body() + ")");
          exitCode = 1;
        } else {
          ctx.echo("Success: flush scheduled restart for member " + member.name());
        }
      } catch (IOException e) {
        ctx.echo("Failed: flush scheduled restart for member " + member.name() + ", " + e.getMessage());
        exitCode = 1;
      }
    }
    return exitCode;
  }

  private static int flushSwitchover(CtlContext ctx, ClusterSnapshot cluster, String clusterName)
      throws CtlException {
    String path = ctx.basePath(clusterName) + "/failover";
    ZkSession.Versioned failover = ctx.zk("read the failover key of " + clusterName, zk -> zk.get(path));
    if (cluster.failover() == null || cluster.failover().path("scheduled_at").asText("").isEmpty()
        || failover == null) {
      ctx.echo("No pending scheduled switchover");
      return 0;
    }
    for (Member member : Members.leaderFirst(cluster)) {
      try {
        PatroniRest.Response r = ctx.rest().request(member, "DELETE", "switchover", null);
        if (r.status() == 200 || r.status() == 404) {
          ctx.echo((r.status() == 200 ? "Success: " : "Failed: ") + r.body());
          return r.status() == 200 ? 0 : 1;
        }
        ctx.echo("Failed: member=" + member.name() + ", status_code=" + r.status() + ", (" + r.body() + ")");
      } catch (IOException e) {
        // patronictl: "Member X is not accessible", ask the next one
      }
    }
    ctx.echo(ctx.timestamp(6) + " Could not find any accessible member of cluster " + clusterName);
    if (!ctx.zk("clear the failover key of " + clusterName, zk -> zk.setIfVersion(path, "{}", failover.version()))) {
      throw new CtlException("the failover key changed meanwhile: nothing flushed");
    }
    return 0;
  }
}
