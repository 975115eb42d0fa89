package io.pgha.cli;

import io.pgha.dcs.ClusterSnapshot;
import java.util.List;

/**
 * {@code remove CLUSTER [-f FMT]} (§7.8): after three confirmations (the cluster name, "Yes I am aware", and the
 * leader's name while a leader holds the key) deletes {@code /<namespace>/<cluster>} recursively.
 */
final class RemoveCommand {
  private static final String AWARE = "Yes I am aware";

  private RemoveCommand() {}

  static int run(CtlContext ctx, List<String> args) throws CtlException {
    CtlArgs parsed = CtlArgs.parse(new CtlArgs.Spec()
        .value("format", "-f", "--format")
        .value("group", "--group"), args).atMost(1);
    String clusterName = parsed.required("CLUSTER_NAME");
    ClusterTable.Format format = ClusterTable.Format.parse(
        parsed.value("format") == null ? "pretty" : parsed.value("format"));
    ClusterSnapshot cluster = ctx.cluster(clusterName);
    ctx.printMembers(cluster, clusterName, false, format);
    if (!ctx.prompts.prompt("Please confirm the cluster name to remove", null).equals(clusterName)) {
      throw new CtlException("Cluster names specified do not match");
    }
    if (!ctx.prompts.prompt("You are about to remove all information in DCS for " + clusterName
        + ", please type: \"" + AWARE + "\"", null).equals(AWARE)) {
      throw new CtlException("You did not exactly type \"" + AWARE + "\"");
    }
    if (cluster.leader() != null && !ctx.prompts.prompt(
        "This cluster currently is healthy. Please specify the leader name to continue", null)
        .equals(cluster.leader())) {
      throw new CtlException("You did not specify the current leader of the cluster");
    }
    ctx.zk("remove " + ctx.basePath(clusterName), zk -> {
      zk.deleteRecursively(ctx.basePath(clusterName));
      return null;
    });
    return 0;
  }
}
