package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.config.ZooKeeperConfig;
import io.pgha.dcs.ZooKeeperDcs;
import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.ZooKeeperProcess;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@link ZooKeeperDcs} against a real ZooKeeper server process that stops answering for a while. */
@Tag("integration")
class ZooKeeperDcsIT {

  /**
   * The bootstrap race's create of {@code initialize} cannot be told from another member's afterwards, so its winner
   * must hear the answer however late it comes within the session: a server frozen for 3.5 s (longer than the usual
   * 2 s request deadline, shorter than the 10 s session) still makes this member the winner.
   */
  @Test
  void theBootstrapRaceWaitsForALateAnswer() throws Exception {
    Path dir = Files.createTempDirectory(Path.of(System.getProperty("pgha.it.tmp", "/tmp")), "pgha-it-zkdcs-");
    Vertx vertx = Vertx.vertx();
    try (ZooKeeperProcess zk = ZooKeeperProcess.start(TestCluster.jar(), FreePorts.next(), dir.resolve("data"),
        dir.resolve("zk.log"))) {
      zk.waitServing(Duration.ofSeconds(30));
      Context context = vertx.getOrCreateContext();
      CompletableFuture<ZooKeeperDcs> started = new CompletableFuture<>();
      context.runOnContext(v -> {
        ZooKeeperDcs dcs = new ZooKeeperDcs(context, ZooKeeperConfig.plain(List.of(zk.connectString())),
            "/service/late", "m1", 10_000, 5_000,
            view -> { }, health -> { });
        dcs.start().onSuccess(x -> started.complete(dcs)).onFailure(started::completeExceptionally);
      });
      ZooKeeperDcs dcs = started.get(30, TimeUnit.SECONDS);
      LocalCluster.signal(zk.pid(), "STOP");
      CompletableFuture<Boolean> won = new CompletableFuture<>();
      try {
        context.runOnContext(v -> dcs.raceInitialize().onSuccess(won::complete).onFailure(won::completeExceptionally));
        LocalCluster.sleep(Duration.ofMillis(3500));
      } finally {
        LocalCluster.signal(zk.pid(), "CONT");
      }
      assertThat(won.get(10, TimeUnit.SECONDS)).as("the late answer makes us the winner").isTrue();
      context.runOnContext(v -> dcs.close());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      LocalCluster.deleteRecursively(dir);
    }
  }
}
