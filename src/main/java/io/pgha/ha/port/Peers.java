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

  void close();
}
