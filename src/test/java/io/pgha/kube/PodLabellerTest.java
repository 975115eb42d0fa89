package io.pgha.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.bus.Addresses;
import io.pgha.bus.LocalCodec;
import io.pgha.config.ConfigException;
import io.pgha.model.NodeStatus;
import io.pgha.postgres.PostmasterEvent;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PodLabellerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NS = "db";
  private Vertx vertx;
  private KubeApi api;

  @AfterEach
  void tearDown() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    if (api != null) {
      api.close();
    }
  }

  @Test
  void settingsTakePatronisKeysAndDefaults() throws Exception {
    KubernetesSettings d = KubernetesSettings.from(tree("{\"kubernetes\":{}}"),
        Map.of("KUBERNETES_SERVICE_HOST", "10.0.0.1", "KUBERNETES_SERVICE_PORT", "6443", "POD_NAMESPACE", "prod",
            "POD_NAME", "pg-1"), "member");
    assertThat(d.roleLabel()).isEqualTo("role");
    assertThat(List.of(d.leaderValue(), d.followerValue(), d.standbyLeaderValue()))
        .containsExactly("primary", "replica", "primary");
    assertThat(d.tmpRoleLabel()).isNull();
    assertThat(d.apiUrl()).isEqualTo("https://10.0.0.1:6443");
    assertThat(d.podPath()).isEqualTo("/api/v1/namespaces/prod/pods/pg-1");

    KubernetesSettings c = KubernetesSettings.from(tree("{\"kubernetes\":{\"namespace\":\"ns1\",\"labels\":"
        + "{\"application\":\"pgha\",\"cluster-name\":\"batman\"},\"role_label\":\"spilo-role\",\"leader_label_value\":"
        + "\"master\",\"follower_label_value\":\"replica\",\"standby_leader_label_value\":\"standby\","
        + "\"tmp_role_label\":\"tmp-role\",\"api_url\":\"http://127.0.0.1:1/\"}}"), Map.of(), "member");
    assertThat(c.labels()).containsEntry("application", "pgha").containsEntry("cluster-name", "batman");
    assertThat(c.podPath()).isEqualTo("/api/v1/namespaces/ns1/pods/member");
    assertThat(c.apiUrl()).isEqualTo("http://127.0.0.1:1");
    assertThat(c.roleLabel()).isEqualTo("spilo-role");
    assertThat(c.tmpRoleLabel()).isEqualTo("tmp-role");
    assertThat(c.caFile()).isEqualTo(Path.of("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"));
    assertThat(KubernetesSettings.from(tree("{\"kubernetes\":{\"cacert\":\"/etc/k8s/ca.pem\",\"api_url\":\"https://k\"}}"),
        Map.of(), "m").caFile()).isEqualTo(Path.of("/etc/k8s/ca.pem"));

    assertThat(KubernetesSettings.from(tree("{\"zookeeper\":{}}"), Map.of(), "m")).isNull();
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> KubernetesSettings.from(tree("{\"kubernetes\":{}}"), Map.of(), "m"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("KUBERNETES_SERVICE_HOST");
  }

  @Test
  void labelsFollowPatronisTouchMember() throws Exception {
    KubernetesSettings k = KubernetesSettings.from(tree("{\"kubernetes\":{\"labels\":{\"app\":\"pg\"},"
        + "\"leader_label_value\":\"master\",\"tmp_role_label\":\"tmp\",\"api_url\":\"http://x\"}}"), Map.of(), "m");

    assertThat(RoleLabels.desired(status("primary", "running", true), k))
        .containsExactlyEntriesOf(map("app", "pg", "role", "master", "tmp", "primary"));
    assertThat(RoleLabels.desired(status("standby_leader", "running", true), k))
        .containsEntry("role", "primary");
    assertThat(RoleLabels.desired(status("replica", "running", false), k))
        .containsExactlyEntriesOf(map("app", "pg", "role", "replica", "tmp", "replica"));
    assertThat(RoleLabels.desired(status("replica", "stopped", false), k))
        .containsExactlyEntriesOf(map("app", "pg", "role", null, "tmp", null));
    assertThat(RoleLabels.desired(status("primary", "running", false), k)) // lost the key: not routed as primary
        .containsEntry("role", null);
    assertThat(RoleLabels.desired(status("uninitialized", "running", false), k)).containsEntry("role",
        "uninitialized");
  }

  @Test
  void patchesThePodAtEveryRoleChange() throws Exception {
    api = KubeApi.onFreePort().start();
    api.createPod(NS, "pg-0", Map.of("app", "pg", "role", "stale"));
    PodLabeller labeller = startLabeller();

    publish(status("replica", "starting", false));
    await().atMost(Duration.ofSeconds(10)).until(() -> !api.labels(NS, "pg-0").containsKey("role"));
    publish(status("replica", "running", false));
    await().atMost(Duration.ofSeconds(10)).until(() -> "replica".equals(api.labels(NS, "pg-0").get("role")));
    publish(status("replica", "running", true)); // acquired the leader key: labelled before the promote finished
    await().atMost(Duration.ofSeconds(10)).until(() -> "primary".equals(api.labels(NS, "pg-0").get("role")));
    publish(status("primary", "running", true));
    publish(status("replica", "running", false));
    await().atMost(Duration.ofSeconds(10)).until(() -> "replica".equals(api.labels(NS, "pg-0").get("role")));

    assertThat(api.labels(NS, "pg-0")).containsEntry("app", "pg").containsEntry("cluster", "batman");
    long before = labeller.patches();
    publish(status("replica", "running", false)); // same labels: no request
    Thread.sleep(300);
    assertThat(labeller.patches()).isEqualTo(before);

    labeller.removeRoleLabels(5000).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(api.labels(NS, "pg-0")).doesNotContainKey("role").containsEntry("app", "pg");
    assertThat(labeller.failures()).isZero();
  }

  @Test
  void decisionsStartingARoleChangeAreRecognised() {
    assertThat(RoleLabels.transition("ha.decision cycle=30 role=replica action=Promote reason=PROMOTE_HAD_LOCK"
        + " msg=\"promoted self to leader\" trigger=rerun")).isEqualTo(RoleLabels.Transition.PROMOTING);
    assertThat(RoleLabels.transition("ha.decision cycle=8 role=primary action=DemoteGraceful reason=SWITCHOVER_DEMOTE"
        + " msg=\"x\"")).isEqualTo(RoleLabels.Transition.DEMOTING);
    assertThat(RoleLabels.transition("ha.decision cycle=8 role=primary action=HandOver reason=X"))
        .isEqualTo(RoleLabels.Transition.DEMOTING);
    assertThat(RoleLabels.transition("ha.decision cycle=8 role=primary action=Stop reason=X"))
        .isEqualTo(RoleLabels.Transition.DEMOTING);
    assertThat(RoleLabels.transition("ha.decision cycle=8 role=replica action=Stop reason=X")).isNull();
    assertThat(RoleLabels.transition("ha.decision cycle=8 role=replica action=Follow reason=X msg=\"action=Promote\""))
        .isNull();
    assertThat(RoleLabels.transition("no decision")).isNull();
  }

  /**
   * A Promote decision labels the pod leader before any status says so; a demotion labels it follower only once the
   * postmaster has stopped (postgres takes writes until then).
   */
  @Test
  void aPromoteDecisionLabelsLeaderAtOnceAndADemotionFollowerOncePostgresStopped() throws Exception {
    api = KubeApi.onFreePort().start();
    api.createPod(NS, "pg-0", Map.of("app", "pg"));
    startLabeller();
    postmaster(true);
    publish(status("replica", "running", false));
    awaitRole("replica");

    decide("ha.decision cycle=9 role=replica action=Promote reason=PROMOTE_HAD_LOCK msg=\"promoting\"");
    awaitRole("primary");
    publish(status("promoted", "running", false)); // promote in flight, the key not confirmed yet: still primary
    Thread.sleep(300);
    assertThat(api.labels(NS, "pg-0")).containsEntry("role", "primary");
    publish(status("primary", "running", true));

    decide("ha.decision cycle=12 role=primary action=DemoteGraceful reason=SWITCHOVER_DEMOTE msg=\"demoting\"");
    publish(status("primary", "stopping", true)); // the checkpoint and the fast stop: postgres may still take writes
    Thread.sleep(300);
    assertThat(api.labels(NS, "pg-0")).containsEntry("role", "primary");
    int patchesBefore = api.patches().size();
    postmaster(false); // postgres stopped: no more writes
    awaitRole("replica");
    assertThat(api.patches().subList(patchesBefore, api.patches().size())).hasSize(1);
    publish(status("primary", "stopped", true)); // still holds the key until the final WAL position is written
    Thread.sleep(300);
    assertThat(api.labels(NS, "pg-0")).containsEntry("role", "replica");
    publish(status("primary", "stopped", false)); // key released: the status decides again (no role while stopped)
    await().atMost(Duration.ofSeconds(10)).until(() -> !api.labels(NS, "pg-0").containsKey("role"));
    postmaster(true);
    publish(status("replica", "running", false));
    awaitRole("replica");
  }

  /** A switchover whose candidate fell behind: the old primary stops, starts again as primary, keeps its label. */
  @Test
  void aDemotionThatEndsAsPrimaryAgainLabelsLeaderAgain() throws Exception {
    labelledPrimary();

    decide("ha.decision cycle=12 role=primary action=DemoteGraceful reason=SWITCHOVER_DEMOTE msg=\"demoting\"");
    postmaster(false);
    awaitRole("replica");
    publish(status("primary", "stopped", true));
    postmaster(true); // StayLeader: started again as primary, the key kept
    publish(status("primary", "running", true));
    awaitRole("primary");
  }

  /** A primary whose postgres is already down when it releases the key is relabelled at once. */
  @Test
  void aDemotionOfAStoppedPrimaryRelabelsAtOnce() throws Exception {
    labelledPrimary();
    postmaster(false); // crashed
    decide("ha.decision cycle=20 role=primary action=ReleaseLeader reason=PG_NOT_RUNNING_RELEASE msg=\"x\"");
    awaitRole("replica");
  }

  @Test
  void anApiServerThatIsDownIsRetriedUntilItAnswers() throws Exception {
    api = KubeApi.onFreePort(); // not started: connections are refused
    PodLabeller labeller = startLabeller();

    publish(status("primary", "running", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> labeller.failures() >= 3);
    api.start();
    api.createPod(NS, "pg-0", Map.of("app", "pg")); // and a pod that did not exist (404) until now
    long started = System.nanoTime();
    await().atMost(Duration.ofSeconds(15)).until(() -> "primary".equals(api.labels(NS, "pg-0").get("role")));

    assertThat(labeller.patches()).isEqualTo(1);
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .isLessThanOrEqualTo(Duration.ofMillis(PodLabeller.MAX_BACKOFF_MS + 2000));
  }

  /** The shutdown never hangs on an API server that is down: removing the labels gives up after its timeout. */
  @Test
  void removingTheLabelsAtShutdownIsBoundedWhenTheApiIsDown() throws Exception {
    api = KubeApi.onFreePort(); // not started
    PodLabeller labeller = startLabeller();
    publish(status("primary", "running", true));
    await().atMost(Duration.ofSeconds(10)).until(() -> labeller.failures() >= 4); // back-off now ≥ 2 s

    long started = System.nanoTime();
    labeller.removeRoleLabels(500).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(1500));
    assertThat(labeller.patches()).isZero();
  }

  private PodLabeller startLabeller() throws Exception {
    vertx = Vertx.vertx();
    vertx.eventBus().registerDefaultCodec(NodeStatus.class, new LocalCodec<>(NodeStatus.class));
    vertx.eventBus().registerDefaultCodec(PostmasterEvent.class, new LocalCodec<>(PostmasterEvent.class));
    KubernetesSettings k = KubernetesSettings.from(tree("{\"kubernetes\":{\"namespace\":\"" + NS + "\","
        + "\"labels\":{\"cluster\":\"batman\"},\"api_url\":\"" + api.url() + "\"}}"), Map.of(), "pg-0")
        .withServiceAccountFiles(Path.of("/nonexistent/token"), Path.of("/nonexistent/ca.crt"));
    PodLabeller labeller = new PodLabeller(k);
    vertx.deployVerticle(labeller).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return labeller;
  }

  private void decide(String line) {
    vertx.eventBus().publish(Addresses.HA_DECIDED, line);
  }

  /** A labeller whose pod is labelled primary: postgres runs, the member holds the key. */
  private void labelledPrimary() throws Exception {
    api = KubeApi.onFreePort().start();
    api.createPod(NS, "pg-0", Map.of("app", "pg"));
    startLabeller();
    postmaster(true);
    publish(status("primary", "running", true));
    awaitRole("primary");
  }

  private void awaitRole(String role) {
    await().atMost(Duration.ofSeconds(10)).until(() -> role.equals(api.labels(NS, "pg-0").get("role")));
  }

  private void postmaster(boolean alive) {
    vertx.eventBus().publish(Addresses.PG_POSTMASTER_CHANGED, new PostmasterEvent(42, alive, true, alive ? 0 : -1));
  }

  private void publish(NodeStatus s) {
    vertx.eventBus().publish(Addresses.HA_STATUS_CHANGED, s);
  }

  static NodeStatus status(String role, String state, boolean leaderLock) {
    return new NodeStatus("pg-0", "batman", "4.0.0", state, role, null, 150000, "running".equals(state), null, null,
        null, null, null, 1, null, List.of(), leaderLock, true, false, false, null, null, 0, false,
        System.currentTimeMillis() + 10_000, 30, JSON.createObjectNode(), false, 1048576L);
  }

  private static ObjectNode tree(String json) throws Exception {
    return (ObjectNode) JSON.readTree(json);
  }

  private static Map<String, String> map(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }
}
