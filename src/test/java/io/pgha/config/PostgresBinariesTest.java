package io.pgha.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PostgresBinariesTest {
  private static final String NOT_FOUND = "postgresql.bin_dir: PostgreSQL binaries not found (set postgresql.bin_dir)";

  @TempDir Path root;

  /** A directory holding executable stand-ins for the named binaries. */
  private Path binDir(String relative, String... binaries) throws IOException {
    Path dir = Files.createDirectories(root.resolve(relative));
    for (String binary : binaries) {
      Path file = Files.writeString(dir.resolve(binary), "#!/bin/sh\n");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return dir;
  }

  private static Map<String, String> path(Path... dirs) {
    StringBuilder text = new StringBuilder();
    for (Path dir : dirs) text.append(text.length() == 0 ? "" : File.pathSeparator).append(dir);
    return Map.of("PATH", text.toString());
  }

  @Test
  void configuredDirectoryWithBothBinariesIsUsed() throws Exception {
    Path configured = binDir("opt/pg/bin", "postgres", "pg_ctl");
    binDir("usr/lib/postgresql/17/bin", "postgres", "pg_ctl");

    assertThat(PostgresBinaries.find(configured.toString(), Map.of(), root)).isEqualTo(configured);
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgres", "pg_ctl"})
  void configuredDirectoryMissingABinaryIsAnErrorNamingIt(String present) throws Exception {
    Path configured = binDir("opt/pg/bin", present);
    String missing = present.equals("postgres") ? "pg_ctl" : "postgres";

    assertThatThrownBy(() -> PostgresBinaries.find(configured.toString(), Map.of(), root))
        .isInstanceOf(ConfigException.class)
        .hasMessage("postgresql.bin_dir: no executable '" + missing + "' in '" + configured + "'");
  }

  @Test
  void configuredNonExecutableBinaryIsRefused() throws Exception {
    Path configured = binDir("opt/pg/bin", "pg_ctl");
    Path postgres = Files.writeString(configured.resolve("postgres"), "not a program");
    Files.setPosixFilePermissions(postgres, PosixFilePermissions.fromString("rw-r--r--"));

    assertThatThrownBy(() -> PostgresBinaries.find(configured.toString(), Map.of(), root))
        .isInstanceOf(ConfigException.class)
        .hasMessage("postgresql.bin_dir: no executable 'postgres' in '" + configured + "'");
  }

  @Test
  void configuredDirectoryThatDoesNotExistIsAnError() {
    Path nowhere = root.resolve("nowhere/bin");

    assertThatThrownBy(() -> PostgresBinaries.find(nowhere.toString(), Map.of(), root))
        .isInstanceOf(ConfigException.class)
        .hasMessage("postgresql.bin_dir: no such directory '" + nowhere + "'");
  }

  @Test
  void firstPathEntryWithBothBinariesWins() throws Exception {
    Path wrapperOnly = binDir("usr/bin", "pg_ctl");
    Path first = binDir("opt/a/bin", "postgres", "pg_ctl");
    Path second = binDir("opt/b/bin", "postgres", "pg_ctl");
    binDir("usr/lib/postgresql/17/bin", "postgres", "pg_ctl");

    assertThat(PostgresBinaries.find(null, path(wrapperOnly, first, second), root)).isEqualTo(first);
    assertThat(PostgresBinaries.find("  ", path(second, first), root)).isEqualTo(second);
  }

  @Test
  void newestDebianOrRhelInstallationIsUsedWhenPathHasNone() throws Exception {
    binDir("usr/lib/postgresql/9.6/bin", "postgres", "pg_ctl");
    Path debian15 = binDir("usr/lib/postgresql/15/bin", "postgres", "pg_ctl");
    binDir("usr/lib/postgresql/16/bin", "pg_ctl");  // incomplete: skipped
    binDir("usr/pgsql-14/bin", "postgres", "pg_ctl");
    binDir("usr/local/pgsql/bin", "postgres", "pg_ctl");

    assertThat(PostgresBinaries.find(null, path(root.resolve("usr/bin")), root)).isEqualTo(debian15);

    Path rhel17 = binDir("usr/pgsql-17/bin", "postgres", "pg_ctl");
    assertThat(PostgresBinaries.find(null, Map.of(), root)).isEqualTo(rhel17);
  }

  @Test
  void versionsCompareAsNumbers() throws Exception {
    binDir("usr/lib/postgresql/9.6/bin", "postgres", "pg_ctl");
    Path ten = binDir("usr/lib/postgresql/10/bin", "postgres", "pg_ctl");

    assertThat(PostgresBinaries.find(null, Map.of(), root)).isEqualTo(ten);
  }

  @Test
  void sourceBuildLocationIsTheLastResort() throws Exception {
    Path local = binDir("usr/local/pgsql/bin", "postgres", "pg_ctl");

    assertThat(PostgresBinaries.find(null, Map.of(), root)).isEqualTo(local);
  }

  @Test
  void nothingFoundIsAnErrorAskingForBinDir() throws Exception {
    binDir("usr/lib/postgresql/15/bin", "postgres");

    assertThatThrownBy(() -> PostgresBinaries.find(null, Map.of("PATH", ""), root))
        .isInstanceOf(ConfigException.class)
        .hasMessage(NOT_FOUND);
  }

  @Test
  void findsThisMachinesDebianInstallation() throws Exception {
    Path debian15 = Path.of("/usr/lib/postgresql/15/bin");
    assumeThat(PostgresBinaries.hasServerBinaries(debian15)).isTrue();
    assumeThat(Files.exists(Path.of("/usr/lib/postgresql/16"))).isFalse();

    assertThat(PostgresBinaries.find(null, Map.of("PATH", "/nonexistent"))).isEqualTo(debian15);
  }
}
