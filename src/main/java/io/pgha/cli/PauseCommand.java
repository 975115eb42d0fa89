package io.pgha.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * {@code pause|resume [CLUSTER] [--wait]} (§7.6): {@code PATCH /config {"pause": true|null}} to the leader, else
 * the first other member that answers; {@code --wait} polls ZooKeeper until every member's key shows the new state.
 */
final class PauseCommand {
  private static final long POLL_MS = 1_000;

  private PauseCommand() {}

  static int run(CtlContext ctx, List<String> args, boolean pause) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .flag("wait", "--wait")
        .value("group", "--group"), args).atMost(1);
    String clusterName = ctx.clusterName(parsed.first());
    ClusterSnapshot cluster = ctx.cluster(clusterName);
    if (cluster.paused() == pause) {
      throw new CtlException(pause ? "Cluster is already paused" : "Cluster is not paused");
    }
    Map<String, Integer> versions = memberVersions(ctx, clusterName);
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    if (pause) {
      body.put("pause", true);
    } else {
      body.putNull("pause");
    }
    String done = "Success: cluster management is " + (pause ? "paused" : "resumed");
    for (Member member : Members.leaderFirst(cluster)) {
      PatroniRest.Response r;
      try {
        r = ctx.rest().request(member, "PATCH", "config", body);
      } catch (IOException e) {
        continue; // patronictl: "Member X is not accessible", try the next one
      }
      if (r.status() != 200) {
        ctx.echo("Failed: " + (pause ? "pause" : "resume") + " cluster management status code=" + r.status()
            + ", (" + r.body() + ")");
        return 1;
      }
      if (parsed.flag("wait")) {
        return waitUntilApplied(ctx, clusterName, cluster, pause, versions, done);
      }
      ctx.echo(done);
      return 0;
    }
    throw new CtlException("Can not find accessible cluster member");
  }

  /** patronictl's {@code wait_until_pause_is_applied}: up to {@code loop_wait + 1} s. */
  private static int waitUntilApplied(CtlContext ctx, String clusterName, ClusterSnapshot before, boolean pause,
      Map<String, Integer> versionsBefore, String done) throws CtlException {
    ctx.echo("'" + (pause ? "pause" : "resume") + "' request sent, waiting until it is recognized by all nodes");
    List<String> watched = before.members().stream().filter(m -> m.apiUrl() != null).map(Member::name).toList();
    int loopWait = before.config() == null ? 10 : before.config().path("loop_wait").asInt(10);
    long deadline = System.nanoTime() + (loopWait + 1) * 1_000_000_000L;
    ClusterSnapshot cluster = before;
    while (System.nanoTime() < deadline) {
      cluster = ctx.cluster(clusterName);
      if (cluster.members().stream().filter(m -> watched.contains(m.name())).allMatch(m -> paused(m) == pause)) {
        ctx.echo(done);
        return 0;
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw CtlException.aborted();
      }
    }
    Map<String, Integer> versionsNow = memberVersions(ctx, clusterName);
    List<String> remaining = cluster.members().stream()
        .filter(m -> watched.contains(m.name()) && paused(m) != pause)
        .filter(m -> !versionsNow.getOrDefault(m.name(), -1).equals(versionsBefore.getOrDefault(m.name(), -1)))
        .map(Member::name).toList();
    if (!remaining.isEmpty()) {
      ctx.echo(String.join(", ", remaining) + " members didn't recognized pause state after " + loopWait
          + " seconds");
      return 1;
    }
    ctx.echo(done);
    return 0;
  }

  private static boolean paused(Member member) {
    return member.data().path("pause").asBoolean(false);
  }

  private static Map<String, Integer> memberVersions(CtlContext ctx, String clusterName) throws CtlException {
    return ctx.zk("read the member keys of " + clusterName,
        zk -> zk.memberVersions(ctx.basePath(clusterName) + "/members"));
  }
}
