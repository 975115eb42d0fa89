package io.pgha.events;

import io.pgha.bus.Addresses;
import io.pgha.model.NodeStatus;
import io.pgha.postgres.PostmasterEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns what the agent already says on its own local event bus into cluster events, so that the HA loop never holds
 * a reference to the {@link EventStream} (nor waits for it, nor fails with it): it only publishes locally, which
 * cannot fail.
 *
 * <ul>
 *   <li>{@link #ADDRESS}: any {@link Events} JSON the agent publishes there (switchover progress, configuration
 *       applied, structured decisions) is forwarded as is.
 *   <li>{@link Addresses#PG_POSTMASTER_CHANGED}: {@code postmaster_started}, {@code postmaster_stopped},
 *       {@code postmaster_crashed}.
 *   <li>{@link Addresses#HA_STATUS_CHANGED}: {@code role_changed}, {@code state_changed}, {@code leader_lock} when the
 *       role, the state or the leader key changes.
 *   <li>{@link Addresses#HA_DECIDED} (optional): the HA loop's {@code ha.decision ...} log line as a {@code decision}
 *       event with its fields parsed; a "no action" decision identical to the previous one (every loop_wait) is not
 *       repeated.
 * </ul>
 * Consumers run on the agent's event loop and only hand the event to {@link EventStream#publish}, which never blocks.
 */
public final class EventBridge {
  /** Local address (on the agent's Vert.x) for {@link Events} JSON to publish cluster-wide. */
  public static final String ADDRESS = "pgha.events.local";

  /** {@code ha.decision cycle=N role=R action=A reason=X msg="..." trigger=T leader=L lsn=N tl=N}. */
  private static final Pattern DECISION_LINE = Pattern.compile(
      "ha\\.decision cycle=(\\d+) role=(\\S*) action=(\\S*) reason=(\\S*) msg=\"(.*?)\" trigger=(.*) leader=(\\S*)"
          + " lsn=(\\S*) tl=(\\S*)");

  private final List<MessageConsumer<?>> consumers;

  private EventBridge(List<MessageConsumer<?>> consumers) {
    this.consumers = consumers;
  }

  /** Bridges every source above, decisions from the HA loop's decision lines included. */
  public static Future<EventBridge> install(Vertx agentVertx, EventStream stream) {
    return install(agentVertx, stream, true);
  }

  /**
   * @param decisionsFromLog whether to turn {@link Addresses#HA_DECIDED} lines into {@code decision} events; pass
   *     false once the HA loop publishes structured {@link Events#decision} events on {@link #ADDRESS} itself
   */
  public static Future<EventBridge> install(Vertx agentVertx, EventStream stream, boolean decisionsFromLog) {
    Objects.requireNonNull(stream, "stream");
    return install(agentVertx, stream::publish, decisionsFromLog);
  }

  static Future<EventBridge> install(Vertx vertx, Consumer<JsonObject> sink, boolean decisionsFromLog) {
    var bus = vertx.eventBus();
    StatusTracker status = new StatusTracker(sink);
    DecisionTracker decisions = new DecisionTracker(sink);
    List<MessageConsumer<?>> consumers = new java.util.ArrayList<>();
    consumers.add(bus.<JsonObject>localConsumer(ADDRESS, m -> {
      if (m.body() != null) {
        sink.accept(m.body());
      }
    }));
    consumers.add(bus.<PostmasterEvent>localConsumer(Addresses.PG_POSTMASTER_CHANGED, m -> {
      PostmasterEvent e = m.body();
      sink.accept(e.alive() ? Events.postmasterStarted(e.pid())
          : Events.postmasterExited(e.pid(), e.exitCode(), e.expected()));
    }));
    consumers.add(bus.<NodeStatus>localConsumer(Addresses.HA_STATUS_CHANGED, m -> status.accept(m.body())));
    if (decisionsFromLog) {
      consumers.add(bus.<Object>localConsumer(Addresses.HA_DECIDED, m -> {
        if (m.body() instanceof String line) {
          decisions.accept(line);
        }
      }));
    }
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .map(v -> new EventBridge(consumers));
  }

  /** Stops bridging. */
  public Future<Void> close() {
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList()).mapEmpty();
  }

  /** The {@code decision} event of one {@code ha.decision} line; a line it cannot parse is carried whole. */
  static JsonObject decision(String line) {
    Matcher m = DECISION_LINE.matcher(line);
    if (!m.matches()) {
      return Events.of(Events.DECISION).put("line", line);
    }
    return Events.decision(m.group(3), m.group(4), m.group(5), m.group(6), m.group(2), nullIfUnknown(m.group(7)),
        parseLong(m.group(1)), parseLong(m.group(8)), parseInt(m.group(9)));
  }

  private static final class DecisionTracker {
    private final Consumer<JsonObject> sink;
    private String lastQuiet;

    DecisionTracker(Consumer<JsonObject> sink) {
      this.sink = sink;
    }

    void accept(String line) {
      JsonObject e = decision(line);
      if ("None".equals(e.getString("action"))) {
        String key = e.getString("role") + '|' + e.getString("reason") + '|' + e.getString("message");
        if (key.equals(lastQuiet)) {
          return;
        }
        lastQuiet = key;
      } else {
        lastQuiet = null;
      }
      sink.accept(e);
    }
  }

  private static final class StatusTracker {
    private final Consumer<JsonObject> sink;
    private NodeStatus last;

    StatusTracker(Consumer<JsonObject> sink) {
      this.sink = sink;
    }

    void accept(NodeStatus s) {
      if (s == null) {
        return;
      }
      NodeStatus prev = last;
      last = s;
      if (prev == null) {
        return; // the first status after start-up is the baseline, not a change
      }
      if (!Objects.equals(prev.role(), s.role())) {
        sink.accept(Events.roleChanged(prev.role(), s.role(), s.state(), s.timeline()));
      }
      if (!Objects.equals(prev.state(), s.state())) {
        sink.accept(Events.stateChanged(prev.state(), s.state()));
      }
      if (prev.leaderLockHeld() != s.leaderLockHeld()) {
        sink.accept(Events.leaderLock(s.leaderLockHeld()));
      }
    }
  }

  private static String nullIfUnknown(String s) {
    return s == null || s.isEmpty() || "?".equals(s) || "null".equals(s) ? null : s;
  }

  private static Long parseLong(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Integer parseInt(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
