package io.pgha.cli;

import io.pgha.api.ClusterJson;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.util.List;

/** {@code dsn [CLUSTER] [-r ROLE | -m MEMBER]} (§7.8): {@code host=H port=P} of the leader or the member asked for. */
final class DsnCommand {
  private DsnCommand() {}

  static int run(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .value("role", "-r", "--role")
        .value("member", "-m", "--member")
        .value("group", "--group"), args).atMost(1);
    String role = Members.role(parsed, null);
    String memberName = parsed.value("member");
    role = target(role, memberName);
    String clusterName = ctx.clusterName(parsed.first());
    Member member = Members.any(ctx.cluster(clusterName), role, memberName);
    ClusterJson.HostPort address = member == null ? null : ClusterJson.hostPort(member.data());
    if (address == null) {
      throw new CtlException("Can not find a suitable member");
    }
    ctx.echo("host=" + address.host() + " port=" + (address.port() == null ? "None" : address.port()));
    return 0;
  }

  /** {@code -m} means any role; neither given means the leader; both is an error. */
  static String target(String role, String member) throws CtlException {
    if (member != null) {
      if (role != null) {
        throw new CtlException("--role and --member are mutually exclusive options");
      }
      return "any";
    }
    return role == null ? "leader" : role;
  }
}
