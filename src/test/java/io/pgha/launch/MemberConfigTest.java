package io.pgha.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgha.config.ConfigLoader;
import io.pgha.config.PghaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated member YAML is a valid agent configuration saying what the demo and the tests rely on. */
class MemberConfigTest {

  @Test
  void agentLoaderReadsTheGeneratedConfig(@TempDir Path dir) throws Exception {
    MemberConfig member = new MemberConfig("demo", "pg1", "127.0.0.1:21811", 18008, 15432, dir.resolve("pg1"),
        Path.of("/usr/lib/postgresql/15/bin"), MemberConfig.Timing.FAST);
    Files.writeString(member.configFile(), member.toYaml());

    PghaConfig config = ConfigLoader.load(member.configFile(), Map.of(), configured -> Path.of(configured));

    assertThat(config.scope()).isEqualTo("demo");
    assertThat(config.name()).isEqualTo("pg1");
    assertThat(config.basePath()).isEqualTo("/service/demo").isEqualTo(member.basePath());
    assertThat(config.zookeeper().connectString()).isEqualTo("127.0.0.1:21811");
    assertThat(config.restapi().apiUrl()).isEqualTo("http://127.0.0.1:18008/patroni");
    assertThat(config.postgresql().connUrl()).isEqualTo("postgres://127.0.0.1:15432/postgres");
    assertThat(config.postgresql().dataDir()).isEqualTo(dir.resolve("pg1").resolve("data"));
    assertThat(config.postgresql().pgpass()).isEqualTo(dir.resolve("pg1").resolve("pgpass"));
    assertThat(config.postgresql().superuser().password()).isEqualTo(MemberConfig.SUPERUSER_PASSWORD);
    assertThat(config.postgresql().replication().username()).isEqualTo(MemberConfig.REPLICATION_USER);
    assertThat(config.postgresql().pgHba()).contains("host replication replicator 127.0.0.1/32 md5",
        "host all all 127.0.0.1/32 md5");
    assertThat(config.bootstrap().dcs().path("ttl").asInt()).isEqualTo(10);
    assertThat(config.bootstrap().dcs().path("loop_wait").asInt()).isEqualTo(2);
    assertThat(config.bootstrap().dcs().path("retry_timeout").asInt()).isEqualTo(3);
    assertThat(config.bootstrap().dcs().path("postgresql").path("use_pg_rewind").asBoolean()).isTrue();
    assertThat(config.bootstrap().initdbArgs()).contains("--encoding=UTF8", "--data-checksums");
  }

  @Test
  void timingMustLetThePrimaryDemoteBeforeItsKeyExpires() {
    assertThatThrownBy(() -> new MemberConfig.Timing(10, 5, 3)).isInstanceOf(IllegalArgumentException.class);
  }
}
