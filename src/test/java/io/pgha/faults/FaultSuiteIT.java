package io.pgha.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The bounded CI subset of the fault suite (issue 9), pgha only, fixed seed: the leader's agent frozen, the
 * leader's agent killed alone and the leader cut off from ZooKeeper with synchronous_mode off, and the frozen agent
 * again with synchronous_mode on. Each must keep (a) a single writer, (b) every acknowledged commit in sync mode,
 * (c) a healthy cluster within 30 s of the fault's end, (d) every agent alive. The whole suite runs on demand:
 * {@code benchmarks/faults.sh}.
 */
@Tag("integration")
class FaultSuiteIT {

  private static final long SEED = 20261205;

  @Test
  void leaderFaultsKeepOneWriterAndHeal() throws Exception {
    String jarProperty = System.getProperty("pgha.jar");
    assertThat(jarProperty).as("system property pgha.jar (run with mvn verify)").isNotNull();
    Path jar = Path.of(jarProperty);
    assertThat(Files.isRegularFile(jar)).as(jar + " exists").isTrue();
    Path out = jar.getParent().resolve("fault-results");

    List<Report.Result> results = new ArrayList<>();
    results.addAll(FaultSuite.run(new FaultSuite.Options(SEED,
        List.of(Fault.FREEZE_AGENT, Fault.KILL_AGENT, Fault.ZK_PARTITION), List.of(false), 1, false, true, 0, jar, out,
        false)));
    results.addAll(FaultSuite.run(new FaultSuite.Options(SEED, List.of(Fault.FREEZE_AGENT), List.of(true), 1, false,
        true, 0, jar, out, false)));

    String table = Report.table(results, FaultCluster.TIMING.ttlSeconds());
    System.out.println(table);
    Report.writeCsv(results, out);
    assertThat(results).as("results").hasSize(4);
    for (Report.Result result : results) {
      assertThat(result.failures()).as(result.fault() + (result.sync() ? " (sync)" : "") + "\n" + table).isEmpty();
    }
  }
}
