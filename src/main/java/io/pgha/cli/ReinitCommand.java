package io.pgha.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code reinit CLUSTER [MEMBER...] [--force] [--from-leader] [--wait]} (§7.5): {@code POST /reinitialize} to each
 * chosen replica; a task already running is cancelled only when confirmed (or {@code --force}); {@code --wait} polls
 * {@code GET /patroni} every 2 s until the member is no longer creating a replica.
 */
final class ReinitCommand {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long POLL_MS = 2_000;

  private ReinitCommand() {}

  static int run(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .flag("force", "--force")
        .flag("wait", "--wait")
        .flag("from_leader", "--from-leader")
        .value("group", "--group"), args);
    String clusterName = parsed.required("CLUSTER_NAME");
    List<String> names = parsed.afterFirst();
    boolean force = parsed.flag("force");
    ClusterSnapshot cluster = ctx.cluster(clusterName);
    List<Member> members = Members.select(ctx, cluster, clusterName, names, "replica", force, "reinitialize", true);

    int exitCode = 0;
    List<Member> waitFor = new ArrayList<>();
    for (Member member : members) {
      ObjectNode body = JsonNodeFactory.instance.objectNode().put("force", force);
      if (parsed.flag("from_leader")) {
        body.put("from_leader", true);
      }
      boolean started;
      while (true) {
        PatroniRest.Response r = reinitialize(ctx, member, body);
        started = r.status() < 400;
        ctx.echo(started ? "Success: reinitialize for member " + member.name()
            : "Failed: reinitialize for member " + member.name() + ", status code=" + r.status() + ", (" + r.body()
                + ")");
        if (!started && r.body().endsWith(" already in progress") && !force
            && ctx.prompts.confirm("Do you want to cancel it and reinitialize anyway?")) {
          body.put("force", true);
          continue;
        }
        break;
      }
      if (!started) {
        exitCode = 1;
      } else if (parsed.flag("wait")) {
        waitFor.add(member);
      }
    }
    List<Member> shown = List.of();
    while (!waitFor.isEmpty()) {
      if (!waitFor.equals(shown)) {
        ctx.echo("Waiting for reinitialize to complete on: "
            + String.join(", ", waitFor.stream().map(Member::name).toList()));
        shown = List.copyOf(waitFor);
      }
      sleep();
      for (Member member : List.copyOf(waitFor)) {
        JsonNode status;
        try {
          status = JSON.readTree(ctx.rest().request(member, "GET", "patroni", null).body());
        } catch (IOException e) {
          continue; // the API is busy or restarting with PostgreSQL: ask again next round
        }
        if (!"creating replica".equals(status.path("state").asText())) {
          ctx.echo("Reinitialize is completed on: " + member.name());
          waitFor.remove(member);
        }
      }
    }
    return exitCode;
  }

  private static PatroniRest.Response reinitialize(CtlContext ctx, Member member, JsonNode body)
      throws CtlException {
    try {
      return ctx.rest().request(member, "POST", "reinitialize", body);
    } catch (IOException e) {
      throw new CtlException("reinitialize for member " + member.name() + ": " + e.getMessage());
    }
  }

  private static void sleep() throws CtlException {
    try {
      Thread.sleep(POLL_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CtlException.aborted();
    }
  }
}
