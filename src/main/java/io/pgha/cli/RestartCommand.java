package io.pgha.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.api.OperationRoutes;
import io.pgha.api.Schedules;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * {@code restart CLUSTER [MEMBER...] [-r ROLE] [--any] [--scheduled TS] [--pg-version V] [--pending] [--timeout T]
 * [--force]} (§7.4): {@code POST /restart} to each chosen member, after asking when and under which version
 * condition.
 */
final class RestartCommand {
  private RestartCommand() {}

  static int run(CtlContext ctx, List<String> args, Random random) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .value("role", "-r", "--role")
        .flag("any", "--any")
        .value("scheduled", "--scheduled")
        .value("version", "--pg-version")
        .flag("pending", "--pending")
        .value("timeout", "--timeout")
        .value("group", "--group")
        .flag("force", "--force"), args);
    String clusterName = parsed.required("CLUSTER_NAME");
    List<String> names = parsed.afterFirst();
    String role = Members.role(parsed, "any");
    boolean force = parsed.flag("force");
    String version = parsed.value("version");
    if (version != null) {
      checkVersion(version);
    }

    ClusterSnapshot cluster = ctx.cluster(clusterName);
    List<Member> members = new ArrayList<>(
        Members.select(ctx, cluster, clusterName, names, role, force, "restart", false));
    String scheduled = parsed.value("scheduled");
    if (scheduled == null && !force) {
      scheduled = ctx.prompts.prompt("When should the restart take place (e.g. " + Members.nextHour(ctx) + ") ",
          "now");
    }
    OffsetDateTime scheduledAt = Members.scheduled(ctx, scheduled);
    if (parsed.flag("pending") && scheduledAt == null) {
      members.removeIf(m -> !ClusterSnapshot.parseBool(m.data().get("pending_restart")));
      if (members.isEmpty()) {
        ctx.echo("No members with a pending restart");
        return 0;
      }
    }
    Members.confirm(ctx, members, force, "restart", scheduledAt);
    if (parsed.flag("any")) {
      Collections.shuffle(members, random);
      members = new ArrayList<>(members.subList(0, 1));
    }
    if (version == null && !force) {
      version = ctx.prompts.prompt("Restart if the PostgreSQL version is less than provided (e.g. 9.5.2) ", "");
      if (!version.isEmpty()) {
        checkVersion(version);
      }
    }

    ObjectNode content = JsonNodeFactory.instance.objectNode();
    if (parsed.flag("pending")) {
      content.put("restart_pending", true);
    }
    if (version != null && !version.isEmpty()) {
      content.put("postgres_version", version);
    }
    if (scheduledAt != null) {
      if (cluster.paused()) {
        throw new CtlException("Can't schedule restart in the paused state");
      }
      content.put("schedule", Schedules.isoformat(scheduledAt));
    }
    if (parsed.value("timeout") != null) {
      content.put("timeout", parsed.value("timeout"));
    }

    int exitCode = 0;
    for (Member member : members) {
      try {
        if (content.has("schedule") && force && member.data().hasNonNull("scheduled_restart")) {
          PatroniRest.Response flushed = ctx.rest().request(member, "DELETE", "restart", null);
          if (flushed.status() >= 400) {
            ctx.echo("Failed: flush scheduled restart for member " + member.name() + ", status code="
                + flushed.status() + ", (" + flushed.body() + ")");
          }
        }
        PatroniRest.Response r = ctx.rest().request(member, "POST", "restart", content);
        switch (r.status()) {
          case 200 -> ctx.echo("Success: restart on member " + member.name());
          case 202 -> ctx.echo("Success: restart scheduled on member " + member.name());
          case 409 -> {
            ctx.echo("Failed: another restart is already scheduled on member " + member.name());
            exitCode = 1;
          }
          default -> {
            ctx.echo("Failed: restart for member " + member.name() + ", status code=" + r.status() + ", ("
                + r.body() + ")");
            exitCode = 1;
          }
        }
      } catch (IOException e) {
        ctx.echo("Failed: restart for member " + member.name() + ", " + e.getMessage());
        exitCode = 1;
      }
    }
    return exitCode;
  }

  private static void checkVersion(String version) throws CtlException {
    String error = OperationRoutes.postgresVersionError(version);
    if (error != null) {
      throw new CtlException(error);
    }
  }
}
