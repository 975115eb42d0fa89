package io.pgha.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.bus.Addresses;
import io.pgha.bus.LocalCodec;
import io.pgha.model.NodeStatus;
import io.pgha.postgres.PostmasterEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The agent's local bus turned into cluster events. */
class EventBridgeTest {
  Vertx vertx;
  final List<JsonObject> sent = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    vertx.eventBus().registerDefaultCodec(NodeStatus.class, new LocalCodec<>(NodeStatus.class));
    vertx.eventBus().registerDefaultCodec(PostmasterEvent.class, new LocalCodec<>(PostmasterEvent.class));
  }

  @AfterEach
  void stop() throws Exception {
    ZkSupport.await(vertx.close());
  }

  private void publish(String address, Object body) {
    vertx.eventBus().publish(address, body);
  }

  private void awaitSent(int n) {
    await().atMost(Duration.ofSeconds(5)).until(() -> sent.size() >= n);
  }

  @Test
  void postmasterStartsStopsAndCrashes() throws Exception {
    ZkSupport.await(EventBridge.install(vertx, sent::add, true));
    publish(Addresses.PG_POSTMASTER_CHANGED, new PostmasterEvent(4242, true, false, 0));
    publish(Addresses.PG_POSTMASTER_CHANGED, new PostmasterEvent(4242, false, true, 0));
    publish(Addresses.PG_POSTMASTER_CHANGED, new PostmasterEvent(4343, false, false, 137));
    awaitSent(3);
    assertThat(sent).extracting(e -> e.getString("type"))
        .containsExactly(Events.POSTMASTER_STARTED, Events.POSTMASTER_STOPPED, Events.POSTMASTER_CRASHED);
    assertThat(sent.get(0).getLong("pid")).isEqualTo(4242);
    assertThat(sent.get(2).getInteger("exit_code")).isEqualTo(137);
  }

  @Test
  void roleStateAndLeaderKeyChanges() throws Exception {
    ZkSupport.await(EventBridge.install(vertx, sent::add, true));
    publish(Addresses.HA_STATUS_CHANGED, status("running", "replica", false, 2));
    publish(Addresses.HA_STATUS_CHANGED, status("running", "replica", false, 2)); // no change
    publish(Addresses.HA_STATUS_CHANGED, status("running", "primary", true, 3));
    publish(Addresses.HA_STATUS_CHANGED, status("stopped", "primary", true, 3));
    awaitSent(3);
    Thread.sleep(200);
    assertThat(sent).extracting(e -> e.getString("type"))
        .containsExactly(Events.ROLE_CHANGED, Events.LEADER_LOCK, Events.STATE_CHANGED);
    assertThat(sent.get(0).getString("from")).isEqualTo("replica");
    assertThat(sent.get(0).getString("to")).isEqualTo("primary");
    assertThat(sent.get(0).getInteger("timeline")).isEqualTo(3);
    assertThat(sent.get(1).getBoolean("held")).isTrue();
    assertThat(sent.get(2).getString("to")).isEqualTo("stopped");
  }

  @Test
  void decisionLinesBecomeDecisionEventsWithoutRepeatedNoOps() throws Exception {
    ZkSupport.await(EventBridge.install(vertx, sent::add, true));
    String following = "ha.decision cycle=%d role=replica action=None reason=FOLLOWING msg=\"following pg-b\""
        + " trigger=loop_wait leader=pg-b lsn=100 tl=2";
    publish(Addresses.HA_DECIDED, following.formatted(1));
    publish(Addresses.HA_DECIDED, following.formatted(2)); // the same situation again: not repeated
    publish(Addresses.HA_DECIDED, "ha.decision cycle=3 role=replica action=AcquireLeader reason=ACQUIRE_LOCK"
        + " msg=\"the leader \"pg-b\" is gone, I am the healthiest\" trigger=postmaster exited leader=? lsn=200"
        + " tl=2");
    publish(Addresses.HA_DECIDED, following.formatted(4)); // after something else: reported again
    publish(Addresses.HA_DECIDED, "something else entirely");
    awaitSent(4);
    Thread.sleep(200);
    assertThat(sent).hasSize(4);
    JsonObject first = sent.get(0);
    assertThat(first.getString("action")).isEqualTo("None");
    assertThat(first.getString("reason")).isEqualTo("FOLLOWING");
    assertThat(first.getString("message")).isEqualTo("following pg-b");
    assertThat(first.getLong("cycle")).isEqualTo(1);
    JsonObject race = sent.get(1);
    assertThat(race.getString("type")).isEqualTo(Events.DECISION);
    assertThat(race.getString("action")).isEqualTo("AcquireLeader");
    assertThat(race.getString("trigger")).isEqualTo("postmaster exited");
    assertThat(race.getString("message")).isEqualTo("the leader \"pg-b\" is gone, I am the healthiest");
    assertThat(race.containsKey("leader")).isFalse();
    assertThat(race.getLong("lsn")).isEqualTo(200);
    assertThat(race.getInteger("timeline")).isEqualTo(2);
    assertThat(sent.get(2).getLong("cycle")).isEqualTo(4);
    assertThat(sent.get(3).getString("line")).isEqualTo("something else entirely");
  }

  @Test
  void structuredEventsAreForwardedAndLogLinesCanBeLeftOut() throws Exception {
    ZkSupport.await(EventBridge.install(vertx, sent::add, false));
    publish(Addresses.HA_DECIDED, "ha.decision cycle=1 role=replica action=None reason=FOLLOWING msg=\"x\""
        + " trigger=loop_wait leader=pg-b lsn=1 tl=1");
    publish(EventBridge.ADDRESS, Events.switchover(Events.SWITCHOVER_DEMOTING, "pg-a", "pg-b", null, null));
    awaitSent(1);
    Thread.sleep(200);
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).getString("type")).isEqualTo(Events.SWITCHOVER);
    assertThat(sent.get(0).getString("phase")).isEqualTo("demoting");
    assertThat(sent.get(0).getString("candidate")).isEqualTo("pg-b");
    assertThat(sent.get(0).containsKey("scheduled_at")).isFalse();
  }

  @Test
  void closeStopsBridging() throws Exception {
    EventBridge bridge = ZkSupport.await(EventBridge.install(vertx, sent::add, true));
    ZkSupport.await(bridge.close());
    publish(Addresses.PG_POSTMASTER_CHANGED, new PostmasterEvent(1, true, false, 0));
    publish(EventBridge.ADDRESS, Events.of("x"));
    Thread.sleep(300);
    assertThat(sent).isEmpty();
  }

  private static NodeStatus status(String state, String role, boolean lock, int timeline) {
    return new NodeStatus("pg-a", "demo", "3.0.2", state, role, null, 150018, true, null, null, null, null, null,
        timeline, null, List.of(), lock, true, false, false, null, null, 0, false, 0, 30,
        new ObjectMapper().createObjectNode(), false, 1048576L);
  }
}
