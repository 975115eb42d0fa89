package io.pgha.ha.vertx;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.Version;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The start-up duplicate-name probe ({@link HttpPeers#answers}): another agent counts, our own API does not. */
class HttpPeersTest {
  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private int serve(String instance) throws Exception {
    HttpServer server = vertx.createHttpServer().requestHandler(req -> {
      if (instance != null) req.response().putHeader(Version.INSTANCE_HEADER, instance);
      req.response().setStatusCode(503).end();
    });
    return server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
        .actualPort();
  }

  private boolean answers(int port) throws Exception {
    HttpPeers peers = new HttpPeers(vertx, vertx.getOrCreateContext());
    return peers.answers("http://127.0.0.1:" + port + "/patroni").toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void anotherAgentAnsweringCountsWhateverItsStatus() throws Exception {
    assertThat(answers(serve("another-process"))).isTrue();
    assertThat(answers(serve(null))).isTrue(); // a Patroni or an older pgha sends no id
  }

  @Test
  void ourOwnApiAtOurOwnUrlIsNotASecondAgent() throws Exception {
    assertThat(answers(serve(Version.INSTANCE))).isFalse();
  }

  @Test
  void nobodyListeningIsNoAgent() throws Exception {
    int port = serve(null);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx = Vertx.vertx();
    assertThat(answers(port)).isFalse();
  }
}
