package io.pgha.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Where the PostgreSQL server binaries are: {@value #BIN_DIR_ENV}, else the newest Debian or RHEL install. */
public final class PostgresBinaries {

  /** Environment variable naming the directory holding {@code postgres}, {@code initdb}, {@code pg_ctl}. */
  public static final String BIN_DIR_ENV = "PGHA_PG_BIN_DIR";

  private static final List<Path> INSTALL_ROOTS = List.of(Path.of("/usr/lib/postgresql"), Path.of("/usr"));

  private PostgresBinaries() {}

  public static Optional<Path> find() {
    String configured = System.getenv(BIN_DIR_ENV);
    if (configured != null && !configured.isBlank()) {
      return Optional.of(Path.of(configured));
    }
    // Debian: /usr/lib/postgresql/<major>/bin; RHEL (PGDG): /usr/pgsql-<major>/bin
    return Stream.concat(children(INSTALL_ROOTS.get(0), "").map(p -> p.resolve("bin")),
            children(INSTALL_ROOTS.get(1), "pgsql-").map(p -> p.resolve("bin")))
        .filter(bin -> Files.isExecutable(bin.resolve("postgres")))
        .max(Comparator.comparingInt(PostgresBinaries::majorVersion));
  }

  private static Stream<Path> children(Path root, String prefix) {
    if (!Files.isDirectory(root)) {
      return Stream.empty();
    }
    try (Stream<Path> list = Files.list(root)) {
      return list.filter(p -> p.getFileName().toString().startsWith(prefix)).toList().stream();
    } catch (IOException e) {
      return Stream.empty();
    }
  }

  private static int majorVersion(Path binDir) {
    String dir = binDir.getParent().getFileName().toString().replace("pgsql-", "");
    try {
      return (int) Double.parseDouble(dir);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
