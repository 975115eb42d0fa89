package io.pgha.ha.port;

import io.pgha.decision.MemberRecord;
import io.pgha.decision.PeerStatus;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** The other members' REST APIs. */
public interface Peers {
  /** Every peer's {@code /patroni}, in parallel, each bounded in time; an unreachable peer says so. */
  CompletionStage<Map<String, PeerStatus>> probe(Collection<MemberRecord> peers);

  /** Whether an agent answers {@code GET /liveness} at this api_url (within 3 s). */
  CompletionStage<Boolean> answers(String apiUrl);

  /**
   * §10.2: {@code POST <api_url>/failsafe} with this JSON body to every member, in parallel, each bounded by 2 s;
   * per member whether it answered 200 {@code Accepted}. A port without it accepts nothing (no member keeps a
   * primary that cannot reach ZooKeeper).
   */
  default CompletionStage<Map<String, Boolean>> postFailsafe(Map<String, String> apiUrls, String body) {
    Map<String, Boolean> none = new java.util.TreeMap<>();
    apiUrls.keySet().forEach(n -> none.put(n, false));
    return java.util.concurrent.CompletableFuture.completedFuture(none);
  }

  void close();
}
