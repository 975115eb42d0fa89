package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A member without {@code postgresql.pg_hba} of its own writes the dynamic configuration's
 * {@code postgresql.pg_hba} (from {@code bootstrap.dcs}, then from the config key) into pg_hba.conf and reloads
 * postgres when it changes, as Patroni merges the dynamic {@code postgresql} section under the local one.
 */
@Tag("integration")
class DynamicPgHbaIT {

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  @Test
  void theDynamicPgHbaIsWrittenAndReloaded() throws Exception {
    TestCluster cluster = clusters.start("dynhba", 1, (name, yaml) -> {
      ObjectNode pg = (ObjectNode) yaml.get("postgresql");
      pg.remove("pg_hba");
      pg.put("use_unix_socket", true);
      ((ObjectNode) yaml.at("/bootstrap/dcs/postgresql")).putArray("pg_hba")
          .add("local all all trust")
          .add("host all all 127.0.0.1/32 md5 # from bootstrap.dcs");
    });
    String member = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.await("postgres accepts SQL over TCP", Duration.ofSeconds(30), () -> {
      try {
        return !cluster.sql(member, "SELECT 1 AS one").isEmpty();
      } catch (Exception e) {
        return false;
      }
    });
    String hba = Files.readString(cluster.member(member).dataDir().resolve("pg_hba.conf"));
    assertThat(hba).contains("host all all 127.0.0.1/32 md5 # from bootstrap.dcs");

    // a change of the config key's pg_hba is written and reloaded: TCP logins are refused from then on
    TestCluster.Answer patched = cluster.request(member, "PATCH", "/config",
        "{\"postgresql\": {\"pg_hba\": [\"local all all trust\", \"host all all 127.0.0.1/32 reject\"]}}");
    assertThat(patched.status()).as(patched.body()).isEqualTo(200);
    cluster.await("TCP logins refused after the reload", Duration.ofSeconds(20), () -> {
      try {
        cluster.sql(member, "SELECT 1 AS one");
        return false;
      } catch (Exception e) {
        return String.valueOf(e.getMessage()).contains("pg_hba.conf rejects connection");
      }
    });
    assertThat(Files.readString(cluster.member(member).dataDir().resolve("pg_hba.conf")))
        .contains("host all all 127.0.0.1/32 reject").doesNotContain("from bootstrap.dcs");
    assertThat(cluster.patroniStatus(member).orElseThrow().path("state").asText()).isEqualTo("running");
  }
}
