package io.pgha.config;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the directory holding the PostgreSQL server binaries: the configured {@code postgresql.bin_dir}; else the
 * first PATH entry with both {@code pg_ctl} and {@code postgres} (what Patroni does); else, because distributions
 * keep them off the PATH, the newest of the usual install locations: {@code /usr/lib/postgresql/<N>/bin} (Debian),
 * {@code /usr/pgsql-<N>/bin} (RHEL), then {@code /usr/local/pgsql/bin} (source builds, version unknown).
 */
public final class PostgresBinaries {
  /** The binaries every directory we accept must hold; the others (initdb, pg_rewind...) are checked when used. */
  static final List<String> REQUIRED = List.of("postgres", "pg_ctl");

  private static final Pattern DEBIAN_VERSION = Pattern.compile("\\d+(\\.\\d+)?");
  private static final Pattern RHEL_DIR = Pattern.compile("pgsql-(\\d+(\\.\\d+)?)");

  private PostgresBinaries() {}

  /**
   * @param configuredBinDir {@code postgresql.bin_dir}, or null/blank when not configured
   * @param env the process environment; only {@code PATH} is read
   */
  public static Path find(String configuredBinDir, Map<String, String> env) throws ConfigException {
    return find(configuredBinDir, env, Path.of("/"));
  }

  /** As {@link #find(String, Map)}, with the well-known locations looked up under {@code root} (for tests). */
  static Path find(String configuredBinDir, Map<String, String> env, Path root) throws ConfigException {
    if (configuredBinDir != null && !configuredBinDir.isBlank()) return checkConfigured(configuredBinDir.trim());
    Optional<Path> onPath = onPath(env == null ? null : env.get("PATH"));
    if (onPath.isPresent()) return onPath.get();
    return newestInstalled(root).orElseThrow(() -> new ConfigException(
        "postgresql.bin_dir: PostgreSQL binaries not found (set postgresql.bin_dir)"));
  }

  private static Path checkConfigured(String configured) throws ConfigException {
    Path dir;
    try {
      dir = Path.of(configured).toAbsolutePath().normalize();
    } catch (InvalidPathException e) {
      throw new ConfigException("postgresql.bin_dir: invalid path '" + configured + "'");
    }
    if (!Files.isDirectory(dir)) throw new ConfigException("postgresql.bin_dir: no such directory '" + dir + "'");
    for (String binary : REQUIRED) {
      if (!isExecutable(dir.resolve(binary))) {
        throw new ConfigException("postgresql.bin_dir: no executable '" + binary + "' in '" + dir + "'");
      }
    }
    return dir;
  }

  private static Optional<Path> onPath(String pathVariable) {
    if (pathVariable == null) return Optional.empty();
    for (String entry : pathVariable.split(Pattern.quote(File.pathSeparator))) {
      // an empty entry means the current directory to a shell; a server should not pick binaries from there
      if (entry.isBlank()) continue;
      try {
        Path dir = Path.of(entry).toAbsolutePath().normalize();
        if (hasServerBinaries(dir)) return Optional.of(realBinDir(dir));
      } catch (InvalidPathException e) {
        // not a usable directory: skip it like a shell would
      }
    }
    return Optional.empty();
  }

  /**
   * PATH often holds symlinks to a few server binaries only (Debian: /usr/local/bin/pg_ctl); the directory they
   * point to has the rest (pg_basebackup, pg_rewind, pg_controldata).
   */
  private static Path realBinDir(Path dir) {
    try {
      Path real = dir.resolve("pg_ctl").toRealPath().getParent();
      return hasServerBinaries(real) ? real : dir;
    } catch (java.io.IOException e) {
      return dir;
    }
  }

  private static Optional<Path> newestInstalled(Path root) {
    List<Candidate> candidates = new ArrayList<>();
    Path debian = root.resolve("usr/lib/postgresql");
    for (Path versionDir : children(debian)) {
      String name = versionDir.getFileName().toString();
      if (DEBIAN_VERSION.matcher(name).matches()) {
        candidates.add(new Candidate(version(name), versionDir.resolve("bin")));
      }
    }
    for (Path dir : children(root.resolve("usr"))) {
      Matcher rhel = RHEL_DIR.matcher(dir.getFileName().toString());
      if (rhel.matches()) candidates.add(new Candidate(version(rhel.group(1)), dir.resolve("bin")));
    }
    Optional<Path> versioned = candidates.stream()
        .sorted(Comparator.comparing(Candidate::version, PostgresBinaries::compareVersions).reversed())
        .map(Candidate::binDir)
        .filter(PostgresBinaries::hasServerBinaries)
        .findFirst();
    if (versioned.isPresent()) return versioned;
    Path sourceBuild = root.resolve("usr/local/pgsql/bin");
    return hasServerBinaries(sourceBuild) ? Optional.of(sourceBuild) : Optional.empty();
  }

  private record Candidate(int[] version, Path binDir) {}

  /** "15" is [15], "9.6" is [9, 6]. */
  private static int[] version(String text) {
    String[] parts = text.split("\\.");
    int[] version = new int[parts.length];
    for (int i = 0; i < parts.length; i++) version[i] = Integer.parseInt(parts[i]);
    return version;
  }

  private static int compareVersions(int[] a, int[] b) {
    for (int i = 0; i < Math.max(a.length, b.length); i++) {
      int x = i < a.length ? a[i] : 0;
      int y = i < b.length ? b[i] : 0;
      if (x != y) return Integer.compare(x, y);
    }
    return 0;
  }

  private static List<Path> children(Path dir) {
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.filter(Files::isDirectory).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  static boolean hasServerBinaries(Path dir) {
    return Files.isDirectory(dir) && REQUIRED.stream().allMatch(binary -> isExecutable(dir.resolve(binary)));
  }

  private static boolean isExecutable(Path file) {
    return Files.isRegularFile(file) && Files.isExecutable(file);
  }
}
