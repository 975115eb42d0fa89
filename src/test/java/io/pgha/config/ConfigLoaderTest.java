package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {
  /** Stands in for PostgresBinaries so that the tests do not depend on PostgreSQL being installed. */
  private static final Path FAKE_BIN = Path.of("/opt/fake-pg/bin");
  private static final ConfigLoader.BinDirLookup FAKE_BINARIES = configured -> FAKE_BIN;

  static final String MINIMAL = """
      scope: batman
      name: pg1
      restapi:
        listen: 0.0.0.0:8008
        connect_address: 10.0.0.1:8008
      zookeeper:
        hosts: zk1:2181
      postgresql:
        listen: 0.0.0.0:5432
        connect_address: 10.0.0.1:5432
        data_dir: /var/lib/pg/data
      """;

  @TempDir Path dir;

  private static Path cwd() {
    return Path.of("").toAbsolutePath();
  }

  private PghaConfig load(String yaml) throws Exception {
    return load(yaml, Map.of());
  }

  private PghaConfig load(String yaml, Map<String, String> env) throws Exception {
    Path file = dir.resolve("pgha.yml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(file, env, FAKE_BINARIES);
  }

  private static ObjectNode tree(String yaml) throws Exception {
    return (ObjectNode) PatroniYaml.parse(yaml);
  }

  /** Sets {@code dotted} (creating mappings on the way), or removes it when {@code value} is null. */
  private static ObjectNode with(ObjectNode tree, String dotted, JsonNode value) {
    String[] keys = dotted.split("\\.");
    ObjectNode parent = tree;
    for (int i = 0; i < keys.length - 1; i++) parent = parent.withObjectProperty(keys[i]);
    if (value == null) parent.remove(keys[keys.length - 1]);
    else parent.set(keys[keys.length - 1], value);
    return tree;
  }

  private static ObjectNode minimalWith(String dotted, String value) throws Exception {
    return with(tree(MINIMAL), dotted, value == null ? null : JsonNodeFactory.instance.textNode(value));
  }

  private static PghaConfig build(ObjectNode tree) throws ConfigException {
    return ConfigLoader.fromTree(tree, FAKE_BINARIES);
  }

  // ---------------------------------------------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"bootstrap.post_bootstrap", "bootstrap.post_init", "postgresql.callbacks.on_start"})
  void aCommandThatCannotBeSplitIsRefusedAtLoad(String key) throws Exception {
    assertThatThrownBy(() -> build(minimalWith(key, "psql -c \"SELECT 1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(key).hasMessageContaining("No closing quotation");
    assertThat(build(minimalWith(key, "psql -w -c \"SELECT 1\"")).raw().at("/" + key.replace('.', '/')).asText())
        .isEqualTo("psql -w -c \"SELECT 1\"");
  }

  @Test
  void libpqKeysAndSocketSettingsOfTheAuthenticationUsersAreKept() throws Exception {
    ObjectNode tree = tree(MINIMAL);
    with(tree, "postgresql.use_unix_socket", JsonNodeFactory.instance.booleanNode(true));
    with(tree, "postgresql.use_unix_socket_repl", JsonNodeFactory.instance.textNode("on"));
    with(tree, "postgresql.authentication.replication.username", JsonNodeFactory.instance.textNode("repl"));
    with(tree, "postgresql.authentication.replication.sslmode", JsonNodeFactory.instance.textNode("verify-ca"));
    with(tree, "postgresql.authentication.replication.sslrootcert", JsonNodeFactory.instance.textNode("/c/ca.crt"));
    with(tree, "postgresql.authentication.replication.sslcrldir", JsonNodeFactory.instance.textNode("/c/crl"));
    with(tree, "postgresql.authentication.replication.channel_binding", JsonNodeFactory.instance.textNode("require"));
    with(tree, "postgresql.authentication.superuser.sslcert", JsonNodeFactory.instance.textNode("/c/su.crt"));
    with(tree, "postgresql.authentication.superuser.sslkey", JsonNodeFactory.instance.textNode("/c/su.key"));
    with(tree, "postgresql.authentication.superuser.sslpassword", JsonNodeFactory.instance.textNode("pw"));
    with(tree, "postgresql.authentication.superuser.gssencmode", JsonNodeFactory.instance.textNode("disable"));

    PostgresqlConfig pg = build(tree).postgresql();

    assertThat(pg.useUnixSocket()).isTrue();
    assertThat(pg.useUnixSocketRepl()).isTrue();
    assertThat(pg.replication().libpq()).containsExactlyInAnyOrderEntriesOf(Map.of("sslmode", "verify-ca",
        "sslrootcert", "/c/ca.crt", "sslcrldir", "/c/crl", "channel_binding", "require"));
    assertThat(pg.superuser().libpq()).containsExactlyInAnyOrderEntriesOf(Map.of("sslcert", "/c/su.crt",
        "sslkey", "/c/su.key", "sslpassword", "pw", "gssencmode", "disable"));
    // no rewind section: pg_rewind runs as the superuser, with the superuser's certificate
    assertThat(pg.rewind()).isEqualTo(pg.superuser());
    assertThat(pg.superuser().toString()).doesNotContain("pw,").contains("password=");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void theSampleClusterFilesLoad(int member) throws Exception {
    PghaConfig config = ConfigLoader.load(Path.of("conf/postgres" + member + ".yml"), Map.of(), FAKE_BINARIES);

    assertThat(config.scope()).isEqualTo("batman");
    assertThat(config.namespace()).isEqualTo("service");
    assertThat(config.basePath()).isEqualTo("/service/batman");
    assertThat(config.name()).isEqualTo("postgresql" + member);
    assertThat(config.restapi().listenHost()).isEqualTo("127.0.0.1");
    assertThat(config.restapi().listenPort()).isEqualTo(8008 + member);
    assertThat(config.restapi().apiUrl()).isEqualTo("http://127.0.0.1:" + (8008 + member) + "/patroni");
    assertThat(config.zookeeper().hosts()).containsExactly("127.0.0.1:2181");

    PostgresqlConfig pg = config.postgresql();
    assertThat(pg.listenAddresses()).isEqualTo("127.0.0.1");
    assertThat(pg.port()).isEqualTo(5432 + member);
    assertThat(pg.connUrl()).isEqualTo("postgres://127.0.0.1:" + (5432 + member) + "/postgres");
    assertThat(pg.dataDir()).isEqualTo(cwd().resolve("data/postgresql" + member));
    assertThat(pg.configDir()).isEqualTo(pg.dataDir());
    assertThat(pg.pgpass()).isEqualTo(Path.of("/tmp/pgpass" + member));
    assertThat(pg.binDir()).isEqualTo(FAKE_BIN);
    assertThat(pg.superuser()).isEqualTo(new Credentials("postgres", "zalando"));
    assertThat(pg.replication()).isEqualTo(new Credentials("replicator", "rep-pass"));
    assertThat(pg.rewind()).isEqualTo(new Credentials("rewind_user", "rewind_password"));
    assertThat(pg.parameters().get("unix_socket_directories").asText()).isEqualTo("..");

    BootstrapConfig bootstrap = config.bootstrap();
    assertThat(bootstrap.present()).isTrue();
    assertThat(bootstrap.initdbArgs()).containsExactly("--encoding=UTF8", "--data-checksums");
    DynamicConfig dynamic = DynamicConfigJson.parse(bootstrap.dcs());
    assertThat(dynamic.ttlSeconds()).isEqualTo(30);
    assertThat(dynamic.loopWaitSeconds()).isEqualTo(10);
    assertThat(dynamic.retryTimeoutSeconds()).isEqualTo(10);
    assertThat(dynamic.maximumLagOnFailoverBytes()).isEqualTo(1048576);
    assertThat(dynamic.usePgRewind()).isTrue();
    assertThat(dynamic.warnings()).isEmpty();
    assertThat(bootstrap.dcs().at("/postgresql/pg_hba").toString())
        .isEqualTo("[\"host replication replicator 127.0.0.1/32 md5\",\"host all all 0.0.0.0/0 md5\"]");

    assertThat(config.tags().canFailover()).isTrue();
    assertThat(config.tags().published()).isEmpty();
  }

  @Test
  void patronisOwnSampleIsRejectedOnlyForItsEtcdSection() throws Exception {
    Path sample = Path.of("src/test/resources/patroni-sample/postgres0.yml");

    assertThatThrownBy(() -> ConfigLoader.load(sample, Map.of(), FAKE_BINARIES))
        .isInstanceOf(ConfigException.class)
        .hasMessage("pgha supports only zookeeper: found 'etcd'");
  }

  @Test
  void patronisOwnSampleLoadsUnchangedGivenZooKeeperInTheEnvironment() throws Exception {
    Path sample = Path.of("src/test/resources/patroni-sample/postgres0.yml");

    PghaConfig config = ConfigLoader.load(sample,
        Map.of("PATRONI_ZOOKEEPER_HOSTS", "'zk1:2181','zk2:2181'"), FAKE_BINARIES);

    assertThat(config.scope()).isEqualTo("batman");
    assertThat(config.namespace()).isEqualTo("service");
    assertThat(config.name()).isEqualTo("postgresql0");
    assertThat(config.zookeeper().hosts()).containsExactly("zk1:2181", "zk2:2181");
    assertThat(config.restapi().listenPort()).isEqualTo(8008);
    assertThat(config.postgresql().dataDir()).isEqualTo(cwd().resolve("data/postgresql0"));
    assertThat(config.postgresql().superuser()).isEqualTo(new Credentials("postgres", "zalando"));
    assertThat(config.bootstrap().initdbArgs()).containsExactly("--encoding=UTF8", "--data-checksums");
    assertThat(config.bootstrap().dcs().at("/postgresql/use_pg_rewind").asBoolean()).isTrue();
    assertThat(config.bootstrap().postBootstrap()).isNull();
    // tags all false: nothing published, as Patroni
    assertThat(config.tags().published()).isEmpty();
    assertThat(config.raw().at("/etcd/host").asText()).isEqualTo("127.0.0.1:2379");
  }

  @Test
  void unknownSectionsAreIgnoredButKeptInRaw() throws Exception {
    PghaConfig config = load(MINIMAL + """
        log: {level: DEBUG, dir: /var/log/patroni}
        watchdog: {mode: automatic, device: /dev/watchdog, safety_margin: 5}
        ctl: {insecure: true}
        citus: {group: 0, database: citus}
        thread_pool_size: 5
        """);

    assertThat(config.name()).isEqualTo("pg1");
    assertThat(config.raw().at("/log/level").asText()).isEqualTo("DEBUG");
    assertThat(config.raw().at("/watchdog/safety_margin").asInt()).isEqualTo(5);
    assertThat(config.raw().at("/citus/database").asText()).isEqualTo("citus");
  }

  @Test
  void defaultsAreThoseOfPatroni() throws Exception {
    PghaConfig config = load(MINIMAL);

    assertThat(config.namespace()).isEqualTo("service");
    PostgresqlConfig pg = config.postgresql();
    assertThat(pg.database()).isEqualTo("postgres");
    assertThat(pg.pgpass()).isEqualTo(Path.of(System.getProperty("user.home"), "pgpass"));
    assertThat(pg.configDir()).isEqualTo(Path.of("/var/lib/pg/data"));
    assertThat(pg.pgCtlTimeoutSeconds()).isEqualTo(60);
    assertThat(pg.superuser()).isEqualTo(new Credentials("postgres", null));
    assertThat(pg.replication()).isEqualTo(new Credentials("replicator", null));
    assertThat(pg.rewind()).as("pg_rewind runs as the superuser without a rewind user").isEqualTo(pg.superuser());
    assertThat(pg.parameters()).isEmpty();
    assertThat(pg.pgHba()).isNull();
    assertThat(pg.callbacks()).isEmpty();
    assertThat(pg.basebackupArgs()).isEmpty();
    assertThat(pg.usePgRewind()).isNull();
    assertThat(pg.proxyAddress()).isNull();
    assertThat(config.restapi().authentication()).isNull();
    assertThat(config.restapi().allowlist()).isEmpty();
    assertThat(config.bootstrap().present()).isFalse();
    assertThat(config.bootstrap().dcs()).isEmpty();
    assertThat(config.bootstrap().initdbArgs()).isEmpty();
    assertThat(config.tags().effectiveFailoverPriority()).isEqualTo(1);
  }

  @Test
  void relativePathsResolveAgainstTheCurrentDirectory() throws Exception {
    PghaConfig config = build(with(with(minimalWith("postgresql.data_dir", "data/./pg1/../pg1"),
        "postgresql.pgpass", JsonNodeFactory.instance.textNode("secrets/pgpass")),
        "postgresql.config_dir", JsonNodeFactory.instance.textNode("etc")));

    assertThat(config.postgresql().dataDir()).isEqualTo(cwd().resolve("data/pg1"));
    assertThat(config.postgresql().pgpass()).isEqualTo(cwd().resolve("secrets/pgpass"));
    assertThat(config.postgresql().configDir()).isEqualTo(cwd().resolve("etc"));
  }

  @ParameterizedTest
  @CsvSource({
      "/service/, service",
      "service, service",
      "//service//, service",
      "/a//b/, a/b",
      "'/', ''",
  })
  void namespaceLosesItsSlashes(String written, String expected) throws Exception {
    assertThat(build(minimalWith("namespace", written)).namespace()).isEqualTo(expected);
  }

  @Test
  void yamlAnchorsAndMergeKeysResolveAsInPyYaml() throws Exception {
    PghaConfig config = load(MINIMAL.replace("postgresql:\n", """
        x-users: &users
          superuser: {username: admin, password: &pw s3cret}
        postgresql:
          authentication:
            <<: *users
            replication: {username: repl, password: *pw}
        """));

    assertThat(config.postgresql().superuser()).isEqualTo(new Credentials("admin", "s3cret"));
    assertThat(config.postgresql().replication()).isEqualTo(new Credentials("repl", "s3cret"));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // environment

  @Test
  void environmentOverridesWinOverTheFile() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PATRONI_NAME", "from-env");
    env.put("PATRONI_SCOPE", "gotham");
    env.put("PATRONI_NAMESPACE", "/pgha/");
    env.put("PATRONI_RESTAPI_LISTEN", "*:9008");
    env.put("PATRONI_RESTAPI_CONNECT_ADDRESS", "10.9.9.9:9008");
    env.put("PATRONI_RESTAPI_USERNAME", "admin");
    env.put("PATRONI_RESTAPI_PASSWORD", "secret");
    env.put("PATRONI_RESTAPI_CERTFILE", "/etc/pgha/cert.pem");
    env.put("PATRONI_RESTAPI_KEYFILE", "/etc/pgha/key.pem");
    env.put("PATRONI_RESTAPI_KEYFILE_PASSWORD", "kp");
    env.put("PATRONI_RESTAPI_CAFILE", "/etc/pgha/ca.pem");
    env.put("PATRONI_RESTAPI_VERIFY_CLIENT", "required");
    env.put("PATRONI_RESTAPI_ALLOWLIST", "10.0.0.0/24, 127.0.0.1");
    env.put("PATRONI_RESTAPI_ALLOWLIST_INCLUDE_MEMBERS", "on");
    env.put("PATRONI_POSTGRESQL_LISTEN", "127.0.0.1,10.9.9.9:6432");
    env.put("PATRONI_POSTGRESQL_CONNECT_ADDRESS", "10.9.9.9:6432");
    env.put("PATRONI_POSTGRESQL_PROXY_ADDRESS", "10.9.9.9:7432");
    env.put("PATRONI_POSTGRESQL_DATA_DIR", "/srv/pg");
    env.put("PATRONI_POSTGRESQL_CONFIG_DIR", "/etc/pg");
    env.put("PATRONI_POSTGRESQL_PGPASS", "/run/pgpass");
    env.put("PATRONI_SUPERUSER_USERNAME", "su");
    env.put("PATRONI_SUPERUSER_PASSWORD", "su-pass");
    env.put("PATRONI_REPLICATION_USERNAME", "repl");
    env.put("PATRONI_REPLICATION_PASSWORD", "repl-pass");
    env.put("PATRONI_REWIND_USERNAME", "rw");
    env.put("PATRONI_REWIND_PASSWORD", "rw-pass");
    env.put("PATRONI_REWIND_SSLMODE", "require");
    env.put("PATRONI_ZOOKEEPER_HOSTS", "'zk7:2181','zk8:2182'");
    env.put("PATRONI_LOG_LEVEL", "DEBUG");
    env.put("PATRONI_UNRELATED", "x");

    PghaConfig config = load(MINIMAL, env);

    assertThat(config.name()).isEqualTo("from-env");
    assertThat(config.scope()).isEqualTo("gotham");
    assertThat(config.basePath()).isEqualTo("/pgha/gotham");
    RestApiConfig api = config.restapi();
    assertThat(api.listenHost()).isEqualTo("0.0.0.0");
    assertThat(api.listenPort()).isEqualTo(9008);
    assertThat(api.connectAddress()).isEqualTo("10.9.9.9:9008");
    assertThat(api.authentication()).isEqualTo(new Credentials("admin", "secret"));
    assertThat(api.certfile()).isEqualTo("/etc/pgha/cert.pem");
    assertThat(api.keyfile()).isEqualTo("/etc/pgha/key.pem");
    assertThat(api.keyfilePassword()).isEqualTo("kp");
    assertThat(api.cafile()).isEqualTo("/etc/pgha/ca.pem");
    assertThat(api.verifyClient()).isEqualTo("required");
    assertThat(api.allowlist()).containsExactly("10.0.0.0/24", "127.0.0.1");
    assertThat(api.allowlistIncludeMembers()).isTrue();
    assertThat(api.apiUrl()).isEqualTo("https://10.9.9.9:9008/patroni");
    PostgresqlConfig pg = config.postgresql();
    assertThat(pg.listenAddresses()).isEqualTo("127.0.0.1,10.9.9.9");
    assertThat(pg.port()).isEqualTo(6432);
    assertThat(pg.connectAddress()).isEqualTo("10.9.9.9:6432");
    assertThat(pg.proxyAddress()).isEqualTo("10.9.9.9:7432");
    assertThat(pg.dataDir()).isEqualTo(Path.of("/srv/pg"));
    assertThat(pg.configDir()).isEqualTo(Path.of("/etc/pg"));
    assertThat(pg.pgpass()).isEqualTo(Path.of("/run/pgpass"));
    assertThat(pg.superuser()).isEqualTo(new Credentials("su", "su-pass"));
    assertThat(pg.replication()).isEqualTo(new Credentials("repl", "repl-pass"));
    assertThat(pg.rewind()).isEqualTo(new Credentials("rw", "rw-pass", Map.of("sslmode", "require")));
    assertThat(config.raw().at("/postgresql/authentication/rewind/sslmode").asText()).isEqualTo("require");
    assertThat(config.zookeeper().hosts()).containsExactly("zk7:2181", "zk8:2182");
    assertThat(config.raw().at("/log/level").asText()).isEqualTo("DEBUG");
    assertThat(config.raw().has("unrelated")).isFalse();
  }

  @Test
  void environmentMergesIntoSectionsWithoutDroppingOtherKeys() throws Exception {
    PghaConfig config = load(MINIMAL.replace("  data_dir: /var/lib/pg/data\n", """
          data_dir: /var/lib/pg/data
          authentication:
            superuser: {username: admin, password: from-file}
            replication: {username: repl, password: repl-file}
        """), Map.of("PATRONI_SUPERUSER_PASSWORD", "from-env", "PATRONI_POSTGRESQL_DATA_DIR", ""));

    assertThat(config.postgresql().superuser()).isEqualTo(new Credentials("admin", "from-env"));
    assertThat(config.postgresql().replication()).isEqualTo(new Credentials("repl", "repl-file"));
    assertThat(config.postgresql().dataDir()).as("empty variables are ignored, as by Patroni")
        .isEqualTo(Path.of("/var/lib/pg/data"));
  }

  @Test
  void binDirFromTheEnvironmentReachesTheLookup() throws Exception {
    List<String> asked = new ArrayList<>();
    Path file = dir.resolve("pgha.yml");
    Files.writeString(file, MINIMAL);

    PghaConfig config = ConfigLoader.load(file, Map.of("PATRONI_POSTGRESQL_BIN_DIR", "/usr/lib/postgresql/16/bin"),
        configured -> {
          asked.add(configured);
          return Path.of(configured);
        });

    assertThat(asked).containsExactly("/usr/lib/postgresql/16/bin");
    assertThat(config.postgresql().binDir()).isEqualTo(Path.of("/usr/lib/postgresql/16/bin"));
  }

  static Stream<Arguments> zookeeperHostsFromTheEnvironment() {
    return Stream.of(
        Arguments.of("'zk1:2181','zk2:2181'", List.of("zk1:2181", "zk2:2181")),
        Arguments.of("['zk1:2181', 'zk2:2181']", List.of("zk1:2181", "zk2:2181")),
        Arguments.of("zk1:2181,zk2", List.of("zk1:2181", "zk2:2181")),
        Arguments.of("- zk1:2181\n- zk2:2190", List.of("zk1:2181", "zk2:2190")),
        Arguments.of("zk1", List.of("zk1:2181")));
  }

  @ParameterizedTest
  @MethodSource
  void zookeeperHostsFromTheEnvironment(String variable, List<String> expected) throws Exception {
    PghaConfig config = load(MINIMAL, Map.of("PATRONI_ZOOKEEPER_HOSTS", variable));

    assertThat(config.zookeeper().hosts()).isEqualTo(expected);
  }

  @Test
  void environmentAloneCanSupplyTheZooKeeperSection() throws Exception {
    PghaConfig config = load(MINIMAL.replace("zookeeper:\n  hosts: zk1:2181\n", ""),
        Map.of("PATRONI_ZOOKEEPER_HOSTS", "zk9:2181"));

    assertThat(config.zookeeper().connectString()).isEqualTo("zk9:2181");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // errors

  @ParameterizedTest
  @CsvSource({
      "scope, scope: required",
      "name, name: required",
      "restapi, restapi.listen: required",
      "restapi.listen, restapi.listen: required",
      "restapi.connect_address, restapi.connect_address: required",
      "postgresql, postgresql.listen: required",
      "postgresql.listen, postgresql.listen: required",
      "postgresql.connect_address, postgresql.connect_address: required",
      "postgresql.data_dir, postgresql.data_dir: required",
      "zookeeper, zookeeper.hosts: required",
      "zookeeper.hosts, zookeeper.hosts: required",
  })
  void eachRequiredKeyIsNamedWhenMissing(String key, String message) throws Exception {
    assertThatThrownBy(() -> build(minimalWith(key, null)))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  @ParameterizedTest
  @ValueSource(strings = {"scope", "name", "restapi.listen", "postgresql.data_dir"})
  void blankRequiredValuesCountAsMissing(String key) throws Exception {
    assertThatThrownBy(() -> build(minimalWith(key, "  ")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(key + ": required");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "restapi.listen | 127.0.0.1:abc | restapi.listen: bad port 'abc'",
      "restapi.listen | 127.0.0.1:70000 | restapi.listen: bad port '70000'",
      "restapi.listen | 127.0.0.1 | restapi.listen: missing port in '127.0.0.1'",
      "postgresql.listen | *:x | postgresql.listen: bad port 'x'",
      "restapi.connect_address | host:x | restapi.connect_address: bad port in address 'host:x'",
      "postgresql.connect_address | :5432 | postgresql.connect_address: missing host in ':5432'",
      "restapi | text | restapi: must be a mapping, got 'text'",
      "postgresql.pg_ctl_timeout | soon | postgresql.pg_ctl_timeout: must be a number, got 'soon'",
      "postgresql.pg_ctl_timeout | 0 | postgresql.pg_ctl_timeout: must be at least 1, got 0",
      "zookeeper.hosts | zk1:21x | zookeeper.hosts: bad port in address 'zk1:21x'",
      "restapi.verify_client | maybe | restapi.verify_client: must be none, optional or required, got 'maybe'",
      "tags.nofailover | perhaps | tags.nofailover: must be true or false, got 'perhaps'",
      "tags.failover_priority | -1 | tags.failover_priority: must be 0 or more, got -1",
      "tags.failover_priority | high | tags.failover_priority: must be a number, got 'high'",
      "bootstrap.initdb | UTF8 | bootstrap.initdb: must be a list of options, got 'UTF8'",
      "bootstrap.dcs.ttl | x | bootstrap.dcs.ttl: must be a number, got 'x'",
  })
  void badValuesAreReportedOnOneLineNamingTheKey(String key, String value, String message) throws Exception {
    assertThatThrownBy(() -> build(minimalWith(key, value)))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  static Stream<Arguments> bootstrapTimingsBelowTheirMinimum() {
    return Stream.of(
        Arguments.of("ttl", DynamicConfig.TTL_MIN),
        Arguments.of("loop_wait", DynamicConfig.LOOP_WAIT_MIN),
        Arguments.of("retry_timeout", DynamicConfig.RETRY_TIMEOUT_MIN));
  }

  @ParameterizedTest
  @MethodSource
  void bootstrapTimingsBelowTheirMinimum(String key, int minimum) throws Exception {
    int tooSmall = minimum - 1;
    ObjectNode tree = with(tree(MINIMAL), "bootstrap.dcs." + key, JsonNodeFactory.instance.numberNode(tooSmall));

    assertThatThrownBy(() -> build(tree))
        .isInstanceOf(ConfigException.class)
        .hasMessage("bootstrap.dcs." + key + ": must be at least " + minimum + ", got " + tooSmall);
  }

  @ParameterizedTest
  @ValueSource(strings = {"etcd", "etcd3", "consul", "kubernetes", "raft", "exhibitor"})
  void otherDcsAreRefusedByName(String dcs) throws Exception {
    ObjectNode tree = minimalWith("zookeeper", null);
    with(tree, dcs + ".hosts", JsonNodeFactory.instance.textNode("127.0.0.1:2379"));

    assertThatThrownBy(() -> build(tree))
        .isInstanceOf(ConfigException.class)
        .hasMessage("pgha supports only zookeeper: found '" + dcs + "'");
  }

  @Test
  void malformedYamlIsReportedWithItsPosition() throws Exception {
    Path file = dir.resolve("broken.yml");
    Files.writeString(file, "scope: batman\nname: pg1\nrestapi:\n  listen: 0.0.0.0:8008\n   connect_address: x\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), FAKE_BINARIES))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(file + ": invalid YAML at line 5, column 19: ")
        .hasMessageContaining("mapping values are not allowed here")
        .hasMessageNotContaining("\n");
  }

  @Test
  void unclosedQuoteIsReportedOnOneLine() throws Exception {
    Path file = dir.resolve("broken.yml");
    Files.writeString(file, "scope: 'batman\nname: pg1\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), FAKE_BINARIES))
        .isInstanceOf(ConfigException.class)
        .hasMessageMatching("\\Q" + file + "\\E: invalid YAML at line \\d+, column \\d+: [^\\n]*quoted scalar[^\\n]*");
  }

  @Test
  void missingFileIsSaidSo() {
    Path file = dir.resolve("nowhere.yml");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), FAKE_BINARIES))
        .isInstanceOf(ConfigException.class)
        .hasMessage(file + ": no such file");
  }

  @Test
  void aYamlListIsNotAConfiguration() throws Exception {
    Path file = dir.resolve("list.yml");
    Files.writeString(file, "- scope\n- name\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), FAKE_BINARIES))
        .isInstanceOf(ConfigException.class)
        .hasMessage(file + ": must be a YAML mapping of settings, got a list");
  }

  @Test
  void anEmptyFileIsSaidToBeEmpty() throws Exception {
    Path file = dir.resolve("empty.yml");
    Files.writeString(file, "# nothing here\n");

    assertThatThrownBy(() -> ConfigLoader.load(file, Map.of(), FAKE_BINARIES))
        .isInstanceOf(ConfigException.class)
        .hasMessage(file + ": configuration is empty");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // directories

  @Test
  void aDirectoryMergesItsYamlFilesInNameOrder() throws Exception {
    Files.writeString(dir.resolve("10-base.yml"), MINIMAL + "tags: {clonefrom: true, rack: r1}\n");
    Files.writeString(dir.resolve("20-node.yaml"), """
        name: pg2
        postgresql:
          connect_address: 10.0.0.2:5432
        tags:
          clonefrom:
        """);
    Files.writeString(dir.resolve("05-ignored.txt"), "name: not-yaml");
    Files.writeString(dir.resolve("30-last.yml"), "restapi: {connect_address: 10.0.0.2:8008}\n");

    PghaConfig config = ConfigLoader.load(dir, Map.of(), FAKE_BINARIES);

    assertThat(config.name()).isEqualTo("pg2");
    assertThat(config.postgresql().connectAddress()).isEqualTo("10.0.0.2:5432");
    assertThat(config.postgresql().dataDir()).as("kept from the first file").isEqualTo(Path.of("/var/lib/pg/data"));
    assertThat(config.restapi().connectAddress()).isEqualTo("10.0.0.2:8008");
    assertThat(config.restapi().listenPort()).isEqualTo(8008);
    assertThat(config.tags().clonefrom()).as("a null in a later file removes the key").isFalse();
    assertThat(config.tags().published().toString()).isEqualTo("{\"rack\":\"r1\"}");
  }

  @Test
  void aDirectoryWithoutYamlIsAnError() throws Exception {
    Files.writeString(dir.resolve("notes.txt"), "hello");

    assertThatThrownBy(() -> ConfigLoader.load(dir, Map.of(), FAKE_BINARIES))
        .isInstanceOf(ConfigException.class)
        .hasMessage(dir + ": no *.yml or *.yaml files in directory");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // addresses

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "*:8008 | 0.0.0.0 | 8008",
      ":8008 | 0.0.0.0 | 8008",
      "0.0.0.0:8008 | 0.0.0.0 | 8008",
      "127.0.0.1:8009 | 127.0.0.1 | 8009",
      "[::]:8008 | :: | 8008",
      "[::1]:8010 | ::1 | 8010",
      "::1:8011 | ::1 | 8011",
      "node1.example.com:8008 | node1.example.com | 8008",
  })
  void restApiListenForms(String listen, String host, int port) throws Exception {
    RestApiConfig api = build(minimalWith("restapi.listen", listen)).restapi();

    assertThat(api.listenHost()).isEqualTo(host);
    assertThat(api.listenPort()).isEqualTo(port);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "0.0.0.0:5432 | 0.0.0.0 | 5432",
      "*:5433 | * | 5433",
      "10.0.0.1,127.0.0.1:5434 | 10.0.0.1,127.0.0.1 | 5434",
      "127.0.0.1 | 127.0.0.1 | 5432",
      "[::1]:5435 | ::1 | 5435",
      "127.0.0.1, [::1]:5436 | 127.0.0.1,::1 | 5436",
      "[::] | :: | 5432",
  })
  void postgresListenForms(String listen, String addresses, int port) throws Exception {
    PostgresqlConfig pg = build(minimalWith("postgresql.listen", listen)).postgresql();

    assertThat(pg.listenAddresses()).isEqualTo(addresses);
    assertThat(pg.port()).isEqualTo(port);
  }

  @Test
  void ipv6ConnectAddressesAreUsable() throws Exception {
    ObjectNode tree = minimalWith("postgresql.connect_address", "[fd00::5]:5433");
    with(tree, "restapi.connect_address", JsonNodeFactory.instance.textNode("[fd00::5]:8008"));
    with(tree, "zookeeper.hosts", PatroniYaml.parse("['[fd00::1]:2181', 'fd00::2', '[fd00::3]']"));

    PghaConfig config = build(tree);

    assertThat(config.postgresql().connectHost()).isEqualTo("fd00::5");
    assertThat(config.postgresql().connectPort()).isEqualTo(5433);
    assertThat(config.postgresql().connUrl()).isEqualTo("postgres://[fd00::5]:5433/postgres");
    assertThat(config.restapi().apiUrl()).isEqualTo("http://[fd00::5]:8008/patroni");
    assertThat(config.zookeeper().hosts()).containsExactly("[fd00::1]:2181", "[fd00::2]:2181", "[fd00::3]:2181");
  }

  static Stream<Arguments> zookeeperHostsForms() {
    return Stream.of(
        Arguments.of("hosts: zk1:2181,zk2:2182", List.of("zk1:2181", "zk2:2182")),
        Arguments.of("hosts: 'zk1:2181, zk2'", List.of("zk1:2181", "zk2:2181")),
        Arguments.of("hosts: [zk1:2181, zk2:2182, zk3]", List.of("zk1:2181", "zk2:2182", "zk3:2181")),
        Arguments.of("hosts:\n  - 10.0.0.1:2181\n  - 10.0.0.2", List.of("10.0.0.1:2181", "10.0.0.2:2181")),
        Arguments.of("hosts: zk1", List.of("zk1:2181")));
  }

  @ParameterizedTest
  @MethodSource
  void zookeeperHostsForms(String section, List<String> expected) throws Exception {
    PghaConfig config = load(MINIMAL.replace("zookeeper:\n  hosts: zk1:2181\n", "zookeeper:\n  " + section + "\n"));

    assertThat(config.zookeeper().hosts()).isEqualTo(expected);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // postgresql

  @Test
  void protectedGucsAreDroppedFromLocalParameters() throws Exception {
    PghaConfig config = load(MINIMAL.replace("  data_dir: /var/lib/pg/data\n", """
          data_dir: /var/lib/pg/data
          parameters:
            max_connections: 500
            Wal_Level: logical
            port: 6000
            listen_addresses: '*'
            hot_standby: off
            wal_keep_size: 1GB
            shared_buffers: 1GB
            work_mem: 64MB
            track_commit_timestamp: on
            log_min_duration_statement: 0
        """));

    ObjectNode parameters = config.postgresql().parameters();
    assertThat(parameters.properties()).extracting(Map.Entry::getKey)
        .containsExactly("shared_buffers", "work_mem", "log_min_duration_statement");
    assertThat(parameters.get("work_mem").asText()).isEqualTo("64MB");
    assertThat(config.raw().at("/postgresql/parameters/max_connections").asInt())
        .as("raw keeps the file as written").isEqualTo(500);
  }

  @Test
  void theProtectedGucListIsTheSpecsList() {
    assertThat(ConfigLoader.PROTECTED_GUCS).containsExactlyInAnyOrder("listen_addresses", "port", "cluster_name",
        "wal_level", "hot_standby", "max_connections", "max_wal_senders", "wal_keep_segments", "wal_keep_size",
        "max_prepared_transactions", "max_locks_per_transaction", "track_commit_timestamp", "max_replication_slots",
        "max_worker_processes", "wal_log_hints");
  }

  @Test
  void postgresqlDetails() throws Exception {
    PghaConfig config = load(MINIMAL.replace("  data_dir: /var/lib/pg/data\n", """
          data_dir: /var/lib/pg/data
          database: app
          pg_ctl_timeout: '120'
          use_pg_rewind: 'on'
          remove_data_directory_on_rewind_failure: yes
          remove_data_directory_on_diverged_timelines: 'false'
          pg_hba:
          - local all all trust
          - host all all 0.0.0.0/0 scram-sha-256
          callbacks:
            on_start: /etc/pgha/cb.sh
            on_role_change: /etc/pgha/cb.sh --verbose
            on_coffee: /bin/false
          basebackup:
          - verbose
          - max-rate: 100M
          - checkpoint: "'fast'"
          - format: tar
        """));

    PostgresqlConfig pg = config.postgresql();
    assertThat(pg.database()).isEqualTo("app");
    assertThat(pg.connUrl()).isEqualTo("postgres://10.0.0.1:5432/app");
    assertThat(pg.pgCtlTimeoutSeconds()).isEqualTo(120);
    assertThat(pg.usePgRewind()).isTrue();
    assertThat(pg.removeDataDirectoryOnRewindFailure()).isTrue();
    assertThat(pg.removeDataDirectoryOnDivergedTimelines()).isFalse();
    assertThat(pg.pgHba()).containsExactly("local all all trust", "host all all 0.0.0.0/0 scram-sha-256");
    assertThat(pg.callbacks()).containsExactly(
        Map.entry("on_start", "/etc/pgha/cb.sh"), Map.entry("on_role_change", "/etc/pgha/cb.sh --verbose"));
    assertThat(pg.basebackupArgs()).as("format is pgha's to choose, so it is dropped as Patroni does")
        .containsExactly("--verbose", "--max-rate=100M", "--checkpoint=fast");
  }

  @Test
  void basebackupOptionsMayBeAMapping() throws Exception {
    PghaConfig config = load(MINIMAL.replace("  data_dir: /var/lib/pg/data\n", """
          data_dir: /var/lib/pg/data
          basebackup: {max-rate: 100M, checkpoint: fast, verbose: false}
        """));

    assertThat(config.postgresql().basebackupArgs()).containsExactly("--max-rate=100M", "--checkpoint=fast");
  }

  @Test
  void restApiAuthenticationNeedsBothHalves() throws Exception {
    ObjectNode tree = minimalWith("restapi.authentication.username", "admin");

    assertThatThrownBy(() -> build(tree))
        .isInstanceOf(ConfigException.class)
        .hasMessage("restapi.authentication.password: required");
  }

  @Test
  void numericCredentialsAreText() throws Exception {
    PghaConfig config = load(MINIMAL.replace("  data_dir: /var/lib/pg/data\n", """
          data_dir: /var/lib/pg/data
          authentication:
            superuser: {password: 12345}
        """));

    assertThat(config.postgresql().superuser()).isEqualTo(new Credentials("postgres", "12345"));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // bootstrap

  @Test
  void initdbOptionsBecomeArguments() throws Exception {
    PghaConfig config = load(MINIMAL + """
        bootstrap:
          initdb:
          - encoding: UTF8
          - data-checksums
          - locale: "'en_US.UTF-8'"
          - auth-host: scram-sha-256
          pg_hba:
          - host replication replicator 10.0.0.0/24 md5
          post_init: /usr/local/bin/setup.sh
        """);

    assertThat(config.bootstrap().initdbArgs()).containsExactly(
        "--encoding=UTF8", "--data-checksums", "--locale=en_US.UTF-8", "--auth-host=scram-sha-256");
    assertThat(config.bootstrap().pgHba()).containsExactly("host replication replicator 10.0.0.0/24 md5");
    assertThat(config.bootstrap().postBootstrap()).isEqualTo("/usr/local/bin/setup.sh");
    assertThat(config.bootstrap().present()).isTrue();
    assertThat(config.bootstrap().dcs()).isEmpty();
  }

  @Test
  void initdbOptionsMayBeAMapping() throws Exception {
    PghaConfig config = load(MINIMAL + "bootstrap: {initdb: {encoding: UTF8, locale: C, data-checksums: ''}}\n");

    assertThat(config.bootstrap().initdbArgs()).containsExactly("--encoding=UTF8", "--locale=C");
  }

  @ParameterizedTest
  @ValueSource(strings = {"pgdata", "nosync", "pwfile", "sync-only", "version"})
  void initdbOptionsPghaSetsItselfAreRefused(String option) throws Exception {
    assertThatThrownBy(() -> load(MINIMAL + "bootstrap:\n  initdb:\n  - " + option + ": x\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("bootstrap.initdb: option '" + option + "' is not allowed: pgha sets it for initdb itself");
    assertThatThrownBy(() -> load(MINIMAL + "bootstrap:\n  initdb:\n  - " + option + "\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("bootstrap.initdb: option '" + option + "' is not allowed");
  }

  @Test
  void postBootstrapWinsOverItsAlias() throws Exception {
    PghaConfig config = load(MINIMAL + "bootstrap: {post_bootstrap: /new.sh, post_init: /old.sh}\n");

    assertThat(config.bootstrap().postBootstrap()).isEqualTo("/new.sh");
  }

  @Test
  void bootstrapDcsTimingRuleIsEnforced() throws Exception {
    assertThatThrownBy(() -> load(MINIMAL + "bootstrap:\n  dcs: {ttl: 30, loop_wait: 10, retry_timeout: 15}\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("bootstrap.dcs: loop_wait + 2*retry_timeout must be <= ttl "
            + "(got loop_wait=10, retry_timeout=15, ttl=30)");
  }

  @Test
  void bootstrapDcsTimingRuleUsesDefaultsForUnsetTimings() throws Exception {
    assertThatThrownBy(() -> load(MINIMAL + "bootstrap:\n  dcs: {ttl: 20}\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("bootstrap.dcs: loop_wait + 2*retry_timeout must be <= ttl "
            + "(got loop_wait=10, retry_timeout=10, ttl=20)");
  }

  @ParameterizedTest
  @CsvSource({
      "30, 10, 10",
      "20, 4, 8",
      "\"60\", \"20\", \"20\"",
      "20, 1, 3",
  })
  void bootstrapDcsTimingsThatFitAreKept(String ttl, String loopWait, String retryTimeout) throws Exception {
    PghaConfig config = load(MINIMAL + "bootstrap:\n  dcs: {ttl: " + ttl + ", loop_wait: " + loopWait
        + ", retry_timeout: " + retryTimeout + "}\n");

    DynamicConfig dynamic = DynamicConfigJson.parse(config.bootstrap().dcs());
    assertThat(dynamic.ttlSeconds()).isEqualTo(Integer.parseInt(ttl.replace("\"", "")));
    assertThat(dynamic.loopWaitSeconds()).isEqualTo(Integer.parseInt(loopWait.replace("\"", "")));
    assertThat(dynamic.retryTimeoutSeconds()).isEqualTo(Integer.parseInt(retryTimeout.replace("\"", "")));
  }

  @Test
  void topLevelTimingsAreIgnoredAsByPatroni() throws Exception {
    PghaConfig config = load(MINIMAL + "ttl: 5\nloop_wait: 100\nretry_timeout: 1\n");

    assertThat(config.bootstrap().dcs()).isEmpty();
    assertThat(config.raw().get("ttl").asInt()).isEqualTo(5);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // tags

  private Tags tags(String yaml) throws Exception {
    return load(MINIMAL + "tags:\n" + yaml).tags();
  }

  @ParameterizedTest
  @ValueSource(strings = {"true", "'true'", "'on'", "'1'", "yes", "'Yes'", "1"})
  void booleanTagsAcceptPatronisForms(String written) throws Exception {
    Tags tags = tags("  nofailover: " + written + "\n  noloadbalance: " + written + "\n");

    assertThat(tags.nofailover()).isTrue();
    assertThat(tags.noloadbalance()).isTrue();
    assertThat(tags.canFailover()).isFalse();
    assertThat(tags.published().toString()).isEqualTo("{\"nofailover\":true,\"noloadbalance\":true}");
  }

  @Test
  void publishedLeavesOutFalseBooleansAndNulls() throws Exception {
    Tags tags = tags("""
          nofailover: false
          noloadbalance: 'off'
          clonefrom: true
          nosync: false
          nostream: true
          replicatefrom: pg2
          datacenter: eu-west-1
          weight: 3
          retired: false
          nothing:
        """);

    assertThat(tags.clonefrom()).isTrue();
    assertThat(tags.nostream()).isTrue();
    assertThat(tags.nosync()).isFalse();
    assertThat(tags.replicatefrom()).isEqualTo("pg2");
    assertThat(tags.published().toString()).isEqualTo("{\"clonefrom\":true,\"nostream\":true,"
        + "\"replicatefrom\":\"pg2\",\"datacenter\":\"eu-west-1\",\"weight\":3,\"retired\":false}");
  }

  @Test
  void failoverPriorityIsPublishedWithTheNofailoverItAgreesWith() throws Exception {
    Tags tags = tags("  nofailover: false\n  failover_priority: '3'\n");

    assertThat(tags.failoverPriority()).isEqualTo(3);
    assertThat(tags.effectiveFailoverPriority()).isEqualTo(3);
    assertThat(tags.published().toString()).isEqualTo("{\"nofailover\":false,\"failover_priority\":3}");
  }

  @Test
  void failoverPriorityZeroMeansNoFailover() throws Exception {
    Tags tags = tags("  failover_priority: 0\n");

    assertThat(tags.nofailover()).isFalse();
    assertThat(tags.canFailover()).isFalse();
    assertThat(tags.published().toString()).isEqualTo("{\"failover_priority\":0}");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "nofailover: true | failover_priority: 2 | tags: nofailover: true contradicts failover_priority: 2 "
          + "(failover_priority 0 means nofailover); set only one of them",
      "nofailover: false | failover_priority: 0 | tags: nofailover: false contradicts failover_priority: 0 "
          + "(failover_priority 0 means nofailover); set only one of them",
      "nosync: true | sync_priority: 1 | tags: nosync: true contradicts sync_priority: 1 "
          + "(sync_priority 0 means nosync); set only one of them",
  })
  void contradictoryTagsAreRefused(String flag, String priority, String message) {
    assertThatThrownBy(() -> tags("  " + flag + "\n  " + priority + "\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  @Test
  void agreeingTagsAreAccepted() throws Exception {
    Tags tags = tags("  nofailover: true\n  failover_priority: 0\n");

    assertThat(tags.nofailover()).isTrue();
    assertThat(tags.effectiveFailoverPriority()).isZero();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // binaries

  @Test
  void fromTreeFindsTheInstalledBinariesByDefault() throws Exception {
    assumeThat(PostgresBinaries.hasServerBinaries(Path.of("/usr/lib/postgresql/15/bin"))).isTrue();
    assumeThat(System.getenv("PATRONI_POSTGRESQL_BIN_DIR")).isNull();

    PghaConfig config = ConfigLoader.fromTree(tree(MINIMAL));

    assertThat(PostgresBinaries.hasServerBinaries(config.postgresql().binDir())).isTrue();
  }

  @Test
  void aConfiguredBinDirWithoutPostgresIsAnError() throws Exception {
    Path empty = Files.createDirectory(dir.resolve("bin"));

    assertThatThrownBy(() -> ConfigLoader.fromTree(minimalWith("postgresql.bin_dir", empty.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessage("postgresql.bin_dir: no executable 'postgres' in '" + empty + "'");
  }
}
