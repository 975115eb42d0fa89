package io.pgha.bench;

import io.pgha.launch.MemberConfig;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.SqlClient;
import java.util.concurrent.TimeUnit;

/** One short-lived connection per attempt, as a client failing over would do: connect, insert, close. */
final class Writer implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();

  /** Whether an INSERT committed on this member within a short deadline. */
  boolean tryWrite(MemberConfig member) {
    PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(member.postgresPort())
        .setDatabase("postgres").setUser(MemberConfig.SUPERUSER).setPassword(MemberConfig.SUPERUSER_PASSWORD);
    SqlClient client = PgBuilder.client().with(new NetClientOptions().setConnectTimeout(500))
        .connectingTo(options).using(vertx).build();
    try {
      client.query("CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())")
          .execute()
          .compose(r -> client.query("INSERT INTO bench_writes DEFAULT VALUES").execute())
          .toCompletionStage().toCompletableFuture().get(1, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      return false;
    } finally {
      client.close();
    }
  }

  @Override
  public void close() {
    vertx.close();
  }
}
