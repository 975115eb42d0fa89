package io.pgha.faults;

import io.pgha.launch.MemberConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;

/**
 * One writer per member, each on a connection of its own (reconnecting after any error), inserting a unique value
 * every 100 ms into {@value #TABLE} and recording every acknowledged commit in the ledger. A write that is not
 * acknowledged within {@link #COMMIT_TIMEOUT} is abandoned with its connection, as a client with a timeout would.
 */
final class Writers implements AutoCloseable {

  static final String TABLE = "fault_writes";
  static final Duration INTERVAL = Duration.ofMillis(100);
  static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration CONNECT_TIMEOUT = Duration.ofMillis(700);

  private final Vertx vertx;
  private final Ledger ledger;
  private final DoubleSupplier clockMs;
  private final AtomicLong values;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;
  /** Failed writes (error, timeout, no connection): member and the time the write was given up, suite clock. */
  private final List<Ledger.Ack> failures = java.util.Collections.synchronizedList(new ArrayList<>());

  Writers(Vertx vertx, Ledger ledger, DoubleSupplier clockMs, AtomicLong values, List<MemberConfig> members) {
    this.vertx = vertx;
    this.ledger = ledger;
    this.clockMs = clockMs;
    this.values = values;
    for (MemberConfig member : members) {
      Thread thread = new Thread(() -> write(member), "writer-" + member.name());
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
  }

  static String createTable() {
    return "CREATE TABLE IF NOT EXISTS " + TABLE + " (value bigint PRIMARY KEY, member text NOT NULL)";
  }

  private void write(MemberConfig member) {
    PgConnection connection = null;
    long next = System.nanoTime();
    while (running) {
      next += INTERVAL.toNanos();
      try {
        if (connection == null) {
          connection = connect(member);
        }
        long value = values.incrementAndGet();
        double sent = clockMs.getAsDouble();
        connection.preparedQuery("INSERT INTO " + TABLE + " (value, member) VALUES ($1, $2)")
            .execute(Tuple.of(value, member.name()))
            .toCompletionStage().toCompletableFuture().get(COMMIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        ledger.record(new Ledger.Ack(member.name(), sent, clockMs.getAsDouble(), value));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (java.util.concurrent.ExecutionException e) {
        failures.add(new Ledger.Ack(member.name(), clockMs.getAsDouble(), clockMs.getAsDouble(), -1));
        // the server answered with an error (read-only replica): the connection is fine, keep it
        if (!(e.getCause() instanceof io.vertx.pgclient.PgException) && connection != null) {
          connection.close();
          connection = null;
        }
      } catch (Exception e) {
        failures.add(new Ledger.Ack(member.name(), clockMs.getAsDouble(), clockMs.getAsDouble(), -1));
        // down, frozen or fenced: start over on a fresh connection
        if (connection != null) {
          connection.close();
          connection = null;
        }
      }
      long sleep = next - System.nanoTime();
      if (sleep > 0) {
        try {
          Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        } catch (InterruptedException e) {
          break;
        }
      } else {
        next = System.nanoTime();
      }
    }
    if (connection != null) {
      connection.close();
    }
  }

  private PgConnection connect(MemberConfig member) throws Exception {
    PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(member.postgresPort())
        .setUser(MemberConfig.SUPERUSER).setPassword(MemberConfig.SUPERUSER_PASSWORD).setDatabase("postgres")
        .setReconnectAttempts(0)
        .setProperties(Map.of("application_name", "pgha-faults-writer"));
    Future<PgConnection> connecting = PgConnection.connect(vertx, options);
    try {
      PgConnection connection = connecting.toCompletionStage().toCompletableFuture()
          .get(CONNECT_TIMEOUT.toMillis() + 300, TimeUnit.MILLISECONDS);
      // a connection dropped by a stopping or fenced server is expected here: the next write reconnects
      connection.exceptionHandler(e -> { });
      return connection;
    } catch (Exception e) {
      connecting.onSuccess(PgConnection::close);
      throw e;
    }
  }

  /** Writes to {@code member} that failed with a time in [fromMs, toMs]. */
  long failuresBetween(String member, double fromMs, double toMs) {
    synchronized (failures) {
      return failures.stream().filter(f -> f.member().equals(member) && f.ackMs() >= fromMs && f.ackMs() <= toMs)
          .count();
    }
  }

  @Override
  public void close() {
    running = false;
    for (Thread thread : threads) {
      try {
        thread.join(COMMIT_TIMEOUT.toMillis() + 2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
