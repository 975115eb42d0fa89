package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Back-to-back {@code POST /switchover}, each to the next member, twice round all three: every request succeeds, the
 * candidate becomes the writable leader, every write the old primary acknowledged (a writer keeps trying it all
 * along) is on the new one, and both followers stream from it again (in PostgreSQL and in their
 * {@code /patroni}, which the next switchover's candidate check reads) within {@link #STREAMING_AGAIN_MAX} of the
 * answer, so the next switchover can go at once. A follower whose first connection to the new primary fails (its slot
 * not there yet) waits {@code wal_retrieve_retry_interval}, 5 s, before it tries again: it cannot make that bound.
 */
@Tag("integration")
class BackToBackSwitchoverIT {

  private static final Duration CLUSTER_READY_MAX = Duration.ofSeconds(90);
  private static final int SWITCHOVERS = 6;
  /** Patroni's handler waits up to 2 * max(10, loop_wait) s. */
  private static final Duration SWITCHOVER_REQUEST_MAX = Duration.ofSeconds(30);
  /** Well under wal_retrieve_retry_interval (5 s), and not a loop_wait (2 s) more than the walreceiver needs. */
  private static final Duration STREAMING_AGAIN_MAX = Duration.ofMillis(2_500);
  private static final Duration WRITABLE_MAX = Duration.ofSeconds(5);
  private static final Duration POLL = Duration.ofMillis(50);

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void everySwitchoverSucceedsAndTheFollowersStreamAgainAtOnce() throws Exception {
    TestCluster cluster = clusters.start("back-to-back", 3);
    String leader = cluster.awaitLeader(CLUSTER_READY_MAX);
    cluster.awaitStreamingReplicas(2, CLUSTER_READY_MAX);
    cluster.createWritesTable(leader);
    List<String> names = cluster.memberNames();
    List<String> timings = new ArrayList<>();

    for (int run = 1; run <= SWITCHOVERS; run++) {
      String candidate = names.get((names.indexOf(leader) + 1) % names.size());
      OptionalLong before = cluster.writeMarker(leader);
      assertThat(before).as("run %d: %s accepts writes before the switchover", run, leader).isPresent();
      OldPrimaryWriter writer = new OldPrimaryWriter(cluster, leader);

      long start;
      long answeredAt;
      long streamingAt;
      List<Long> acknowledged;
      try {
        start = System.nanoTime();
        HttpResponse<String> answer = cluster.post(leader, "/switchover",
            "{\"leader\": \"" + leader + "\", \"candidate\": \"" + candidate + "\"}", SWITCHOVER_REQUEST_MAX);
        answeredAt = System.nanoTime();
        assertThat(answer.statusCode()).as("run %d: %s -> %s: %s", run, leader, candidate, answer.body())
            .isEqualTo(200);
        assertThat(cluster.leader()).as("run %d: leader key", run).contains(candidate);
        cluster.awaitWritable(candidate, WRITABLE_MAX);
        List<String> followers = names.stream().filter(n -> !n.equals(candidate)).toList();
        streamingAt = awaitFollowersStreaming(cluster, candidate, followers, answeredAt);
      } finally {
        acknowledged = writer.stop();
      }
      acknowledged.add(before.getAsLong());
      assertThat(cluster.missingMarkers(candidate, acknowledged))
          .as("run %d: writes %s acknowledged, missing on %s", run, leader, candidate).isEmpty();
      timings.add(String.format("%s->%s request %d ms, followers streaming %d ms after the answer", leader, candidate,
          (answeredAt - start) / 1_000_000, (streamingAt - answeredAt) / 1_000_000));
      leader = candidate;
    }
    System.out.println("BackToBackSwitchoverIT: " + String.join("; ", timings));
    String finalLeader = leader;
    // member_slots_ttl (30min by default, as Patroni 4.0): every follower keeps a slot for each other member and
    // none of its own
    for (String follower : names.stream().filter(n -> !n.equals(finalLeader)).toList()) {
      java.util.Set<String> expected = new java.util.TreeSet<>(names);
      expected.remove(follower);
      cluster.await(follower + " keeps exactly the other members' slots " + expected, Duration.ofSeconds(10), () -> {
        try {
          java.util.Set<String> slots = new java.util.TreeSet<>();
          cluster.sql(follower, "SELECT slot_name::text AS s FROM pg_replication_slots")
              .forEach(r -> slots.add((String) r.get("s")));
          return slots.equals(expected);
        } catch (Exception e) {
          return false;
        }
      });
    }
  }

  /** INSERTs on one member over and over from its own thread until stopped; keeps the acknowledged markers. */
  private static final class OldPrimaryWriter {
    private final List<Long> acknowledged = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    OldPrimaryWriter(TestCluster cluster, String member) {
      thread = new Thread(() -> {
        while (running.get()) {
          cluster.writeMarker(member).ifPresent(acknowledged::add);
          TestCluster.sleep(Duration.ofMillis(20));
        }
      }, "writer-" + member);
      thread.setDaemon(true);
      thread.start();
    }

    List<Long> stop() throws InterruptedException {
      running.set(false);
      thread.join(10_000);
      return new ArrayList<>(acknowledged);
    }
  }

  /**
   * Waits until every follower's walreceiver streams from {@code leader} and its {@code /patroni} says
   * {@code replication_state: streaming}; fails after {@link #STREAMING_AGAIN_MAX} from {@code sinceNanos}.
   */
  private static long awaitFollowersStreaming(TestCluster cluster, String leader, List<String> followers,
      long sinceNanos) {
    int leaderPort = cluster.member(leader).postgresPort();
    long deadline = sinceNanos + STREAMING_AGAIN_MAX.toNanos();
    List<String> waiting = new ArrayList<>(followers);
    while (true) {
      waiting.removeIf(f -> cluster.streamsFrom(f, leaderPort) && reportsStreaming(cluster, f));
      if (waiting.isEmpty()) {
        return System.nanoTime();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(waiting + " not streaming from " + leader + " (in PostgreSQL and /patroni) "
            + STREAMING_AGAIN_MAX.toMillis() + " ms after the switchover\n" + cluster.table());
      }
      TestCluster.sleep(POLL);
    }
  }

  private static boolean reportsStreaming(TestCluster cluster, String name) {
    return cluster.patroniStatus(name).map(s -> s.path("replication_state")).map(JsonNode::asText)
        .filter("streaming"::equals).isPresent();
  }
}
