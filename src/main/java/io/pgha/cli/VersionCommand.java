package io.pgha.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.io.IOException;
import java.util.List;

/**
 * {@code version [CLUSTER [MEMBER...]]} (§7.8): pghactl's version, then each member's agent and PostgreSQL version
 * from {@code GET api_url}.
 */
final class VersionCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  private VersionCommand() {}

  static int run(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec().value("group", "--group"), args);
    ctx.echo("pghactl version " + Ctl.version());
    if (parsed.positional().isEmpty()) {
      return 0;
    }
    String clusterName = parsed.positional().get(0);
    List<String> names = parsed.positional().subList(1, parsed.positional().size());
    ctx.echo("");
    for (Member member : Members.withRole(ctx.cluster(clusterName), "any")) {
      if (member.apiUrl() == null || !names.isEmpty() && !names.contains(member.name())) {
        continue;
      }
      try {
        JsonNode status = JSON.readTree(ctx.rest().request(member, "GET", null, null).body());
        String version = Py.str(status.path("patroni").get("version"));
        long server = status.path("server_version").asLong(0);
        ctx.echo(member.name() + ": Patroni " + version + (server != 0 ? " PostgreSQL " + pgVersion(server) : ""));
      } catch (IOException e) {
        ctx.echo(member.name() + ": failed to get version: " + e.getMessage());
      }
    }
    return 0;
  }

  /** {@code 150004} is 15.4, {@code 90624} is 9.6.24. */
  static String pgVersion(long version) {
    return version < 100000 ? version / 10000 + "." + version / 100 % 100 + "." + version % 100
        : version / 10000 + "." + version % 100;
  }
}
