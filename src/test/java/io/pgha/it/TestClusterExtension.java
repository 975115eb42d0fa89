package io.pgha.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Owns the clusters a test starts: after the test it stops every process (even when the test failed or threw),
 * prints the member table and every log tail if it failed and keeps the files, else deletes them.
 *
 * <pre>{@code @RegisterExtension final TestClusterExtension clusters = new TestClusterExtension();}</pre>
 */
public final class TestClusterExtension implements AfterEachCallback {

  private static final int LOG_LINES_ON_FAILURE = 150;

  private final List<TestCluster> clusters = new ArrayList<>();

  /** Starts a cluster of {@code size} members that is cleaned up after the test. */
  public TestCluster start(String scope, int size) throws IOException {
    TestCluster cluster = TestCluster.start(scope, size);
    clusters.add(cluster);
    return cluster;
  }

  /** The same, with each member's YAML changed by {@code configure} first (see {@link TestCluster#start}). */
  public TestCluster start(String scope, int size,
      java.util.function.BiConsumer<String, com.fasterxml.jackson.databind.node.ObjectNode> configure)
      throws IOException {
    TestCluster cluster = TestCluster.start(scope, size, configure);
    clusters.add(cluster);
    return cluster;
  }

  /** A cluster {@link TestCluster#alongside} {@code first}, on its ZooKeeper; stopped before the others. */
  public TestCluster alongside(TestCluster first, String scope, String namePrefix, int size,
      java.util.function.BiConsumer<String, com.fasterxml.jackson.databind.node.ObjectNode> configure)
      throws IOException {
    TestCluster cluster = first.alongside(scope, namePrefix, size, configure);
    clusters.add(0, cluster);
    return cluster;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    boolean failed = context.getExecutionException().isPresent();
    try {
      for (TestCluster cluster : clusters) {
        try {
          if (failed) {
            System.out.println("===== " + context.getDisplayName() + " failed; cluster in " + cluster.baseDir());
            System.out.print(cluster.table());
            System.out.print(cluster.logTails(LOG_LINES_ON_FAILURE));
          }
        } finally {
          cluster.close();
        }
        if (!failed && !Boolean.getBoolean("pgha.it.keep")) { // -Dpgha.it.keep=true keeps them for a look
          cluster.deleteFiles();
        }
      }
    } finally {
      clusters.clear();
    }
  }
}
