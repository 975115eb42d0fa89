package io.pgha.cli;

import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.io.IOException;
import java.util.List;

/** {@code reload CLUSTER [MEMBER...] [-r ROLE] [--force]} (§7.5): {@code POST /reload} to each chosen member. */
final class ReloadCommand {
  private ReloadCommand() {}

  static int run(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .value("role", "-r", "--role")
        .value("group", "--group")
        .flag("force", "--force"), args);
    String clusterName = parsed.required("CLUSTER_NAME");
    List<String> names = parsed.afterFirst();
    String role = Members.role(parsed, "any");
    ClusterSnapshot cluster = ctx.cluster(clusterName);
    List<Member> members = Members.select(ctx, cluster, clusterName, names, role, parsed.flag("force"), "reload",
        true);
    int exitCode = 0;
    for (Member member : members) {
      PatroniRest.Response r;
      try {
        r = ctx.rest().request(member, "POST", "reload", null);
      } catch (IOException e) {
        ctx.echo("Failed: reload for member " + member.name() + ", " + e.getMessage());
        exitCode = 1;
        continue;
      }
      if (r.status() == 200) {
        ctx.echo("No changes to apply on member " + member.name());
      } else if (r.status() == 202) {
        ctx.echo("Reload request received for member " + member.name() + " and will be processed within "
            + Py.str(cluster.config() == null ? null : Py.node(cluster.config().get("loop_wait"))) + " seconds");
      } else {
        ctx.echo("Failed: reload for member " + member.name() + ", status code=" + r.status() + ", (" + r.body()
            + ")");
        exitCode = 1;
      }
    }
    return exitCode;
  }
}
