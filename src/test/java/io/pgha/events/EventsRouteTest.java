package io.pgha.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.api.ApiVerticle;
import io.pgha.model.NodeStatus;
import io.pgha.zk.EmbeddedZooKeeper;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /events} over a real HTTP connection, fed by a real two-member event cluster. */
class EventsRouteTest {
  @TempDir static Path dir;
  static EmbeddedZooKeeper zk;
  static EventStream a;
  static EventStream b;
  static Vertx agent;
  static ApiVerticle api;
  static final AtomicReference<EventStream> served = new AtomicReference<>();

  @BeforeAll
  static void start() throws Exception {
    zk = ZkSupport.startZooKeeper(dir.resolve("zk"));
    String scope = "sse-" + UUID.randomUUID();
    a = ZkSupport.start(zk.connectString(), scope, "pg-a");
    b = ZkSupport.start(zk.connectString(), scope, "pg-b");
    served.set(a);
    agent = Vertx.vertx();
    api = EventsRoute.install(new ApiVerticle("127.0.0.1", 0, status()), served::get, 300);
    ZkSupport.await(agent.deployVerticle(api));
  }

  @AfterAll
  static void stop() throws Exception {
    if (agent != null) {
      ZkSupport.await(agent.close());
    }
    ZkSupport.stop(a, b);
    if (zk != null) {
      zk.close();
    }
  }

  /** An open {@code GET /events}: the head, then the body line by line (chunk sizes included, as sent). */
  static final class Sse implements AutoCloseable {
    final Socket socket;
    final BufferedReader in;
    final int status;
    final Map<String, String> headers = new LinkedHashMap<>();

    Sse() throws Exception {
      socket = new Socket("127.0.0.1", api.actualPort());
      socket.setSoTimeout(5_000);
      OutputStream out = socket.getOutputStream();
      out.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      status = Integer.parseInt(in.readLine().split(" ")[1]);
      for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
        int colon = line.indexOf(':');
        headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
      }
    }

    /** The next line that starts with {@code prefix}, within {@code within}; null when none came. */
    String next(String prefix, Duration within) throws Exception {
      long deadline = System.nanoTime() + within.toNanos();
      while (System.nanoTime() < deadline) {
        String line;
        try {
          line = in.readLine();
        } catch (SocketTimeoutException e) {
          continue;
        }
        if (line == null) {
          return null;
        }
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      return null;
    }

    @Override
    public void close() throws Exception {
      socket.close();
    }
  }

  @Test
  void streamsTheClustersEventsAsServerSentEvents() throws Exception {
    ZkSupport.Collector atA = new ZkSupport.Collector(a);
    ZkSupport.awaitFlow(b, Duration.ofSeconds(10), atA);
    int before = a.subscriberCount();
    try (Sse sse = new Sse()) {
      assertThat(sse.status).isEqualTo(200);
      assertThat(sse.headers.get("content-type")).isEqualTo("text/event-stream");
      assertThat(sse.headers.get("transfer-encoding")).isEqualTo("chunked");
      assertThat(sse.headers.get("cache-control")).isEqualTo("no-cache");
      await().atMost(Duration.ofSeconds(5)).until(() -> a.subscriberCount() == before + 1);

      // published on the other member, served by this one
      b.publish(Events.decision("Promote", "ACQUIRE_LOCK", "promoted", "loop_wait", "replica", null, 7L, 100L, 2)
          .put("id", "sse-1"));
      String data = sse.next("data: ", Duration.ofSeconds(5));
      while (data != null && !data.contains("sse-1")) {
        data = sse.next("data: ", Duration.ofSeconds(5)); // a late probe of awaitFlow may come first
      }
      assertThat(data).as("the event as an SSE data line").isNotNull();
      JsonObject event = new JsonObject(data.substring("data: ".length()));
      assertThat(event.getString("type")).isEqualTo(Events.DECISION);
      assertThat(event.getString("reason")).isEqualTo("ACQUIRE_LOCK");
      assertThat(event.getString("member")).isEqualTo("pg-b");
      assertThat(event.getString("ts")).isNotBlank();

      // this member's own events too
      a.publish(new JsonObject().put("type", "probe").put("id", "sse-2"));
      String own = sse.next("data: {", Duration.ofSeconds(5));
      while (own != null && !own.contains("sse-2")) {
        own = sse.next("data: {", Duration.ofSeconds(5));
      }
      assertThat(own).contains("\"member\":\"pg-a\"");

      assertThat(sse.next(": ping", Duration.ofSeconds(3))).as("heartbeat comment").isEqualTo(": ping");
    }
    // the client went away: its subscription goes too
    await().atMost(Duration.ofSeconds(5)).until(() -> a.subscriberCount() == before);
  }

  @Test
  void severalClientsEachGetEveryEvent() throws Exception {
    int before = a.subscriberCount();
    try (Sse one = new Sse(); Sse two = new Sse()) {
      await().atMost(Duration.ofSeconds(5)).until(() -> a.subscriberCount() == before + 2);
      b.publish(new JsonObject().put("type", "probe").put("id", "both"));
      for (Sse sse : List.of(one, two)) {
        String line = sse.next("data: ", Duration.ofSeconds(10));
        while (line != null && !line.contains("\"both\"")) {
          line = sse.next("data: ", Duration.ofSeconds(10));
        }
        assertThat(line).isNotNull();
      }
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> a.subscriberCount() == before);
  }

  @Test
  void withoutAnEventStreamTheAnswerIs503() throws Exception {
    served.set(null);
    try (Sse sse = new Sse()) {
      assertThat(sse.status).isEqualTo(503);
    } finally {
      served.set(a);
    }
  }

  private static NodeStatus status() {
    return new NodeStatus("pg-a", "sse", "3.0.2", "running", "replica", null, 150018, true, null, null, null, null,
        null, 1, null, List.of(), false, true, false, false, null, null, 0, false, System.currentTimeMillis() + 30_000,
        30, new ObjectMapper().createObjectNode(), false, 1048576L);
  }
}
