package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyCoverageTest {

  private static JsonNode yaml(String text) throws Exception {
    return PatroniYaml.parse(text);
  }

  @Test
  void everyKeyOfPatronisSampleIsAccountedFor() throws Exception {
    // Patroni 3.0.2's own postgres0.yml: every key in it is in the table (honoured or not), none unknown
    JsonNode sample = PatroniYaml.parse(Path.of("src/test/resources/patroni-sample/postgres0.yml"));
    assertThat(KeyCoverage.unhonoured(sample)).noneMatch(k -> k.endsWith("(unknown to pgha)"));
  }

  @Test
  void theShippedExampleFilesNeedNoWarning() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(KeyCoverage.unhonoured(PatroniYaml.parse(Path.of("conf/postgres" + i + ".yml"))))
          .as("conf/postgres%d.yml", i).isEmpty();
    }
  }

  @Test
  void unsupportedUnknownAndNonDefaultMethodsAreNamedInFileOrder() throws Exception {
    JsonNode tree = yaml("""
        scope: s
        name: n
        log: {level: DEBUG}
        restapi: {listen: ':8008', connect_address: 'h:8008', ciphers: HIGH, authentication: {username: u, password: p}}
        zookeeper: {hosts: [zk:2181], use_ssl: true}
        bootstrap:
          method: wal_e
          wal_e: {command: /bin/restore}
          dcs: {ttl: 30, failsafe_mode: true, postgresql: {parameters: {any_guc: 1}, pg_ident: [x]}}
          post_bootstrap: psql -c "SELECT 1"
        postgresql:
          listen: ':5432'
          connect_address: 'h:5432'
          data_dir: /d
          create_replica_methods: [wal_e, basebackup]
          authentication:
            superuser: {username: postgres, sslmode: verify-ca, sslrootcert: /ca, sslnegotiation: direct}
          parameters: {not_checked_here: 1}
          callbacks: {on_start: /cb}
          pre_promote: /fence
          use_unix_socket: true
        watchdog: {mode: off}
        tags: {nofailover: false, custom: x}
        tpyo: 1
        """);

    List<String> keys = KeyCoverage.unhonoured(tree);

    assertThat(keys).containsExactly("log", "restapi.ciphers", "bootstrap.method (wal_e)",
        "bootstrap.wal_e (unknown to pgha)", "bootstrap.dcs.postgresql.pg_ident",
        "postgresql.create_replica_methods ([\"wal_e\",\"basebackup\"])",
        "postgresql.authentication.superuser.sslnegotiation",
        "tpyo (unknown to pgha)");
    assertThat(KeyCoverage.warning(keys)).startsWith("configuration keys pgha does not honour").contains("tpyo")
        .doesNotContain("\n");
  }

  @Test
  void defaultMethodsAndTheHonouredKeysGiveNoWarning() throws Exception {
    JsonNode tree = yaml("""
        scope: s
        name: n
        bootstrap: {method: initdb, initdb: [data-checksums]}
        postgresql: {create_replica_methods: [basebackup], use_unix_socket_repl: true, pg_ctl_timeout: 30}
        """);
    assertThat(KeyCoverage.unhonoured(tree)).isEmpty();
    assertThat(KeyCoverage.warning(List.of())).isNull();
  }

  @Test
  void theReadmeTableListsEveryEntry() {
    String table = KeyCoverage.markdown();
    assertThat(table.lines().count()).isEqualTo(KeyCoverage.entries().size() + 2);
    assertThat(table).contains("| `postgresql.use_unix_socket` | honoured |")
        .contains("| `watchdog.mode` | honoured |").contains("| `log` | not supported (warned at start) |");
  }

  @Test
  void theReadmeHasTheTableAsTheCodeMakesIt() throws Exception {
    String readme = java.nio.file.Files.readString(Path.of("README.md"));

    assertThat(readme).as("README.md's 'Patroni configuration keys' table: regenerate it from KeyCoverage.markdown()")
        .contains(KeyCoverage.markdown());
  }
}
