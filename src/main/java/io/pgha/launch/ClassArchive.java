package io.pgha.launch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The agent's class-data sharing archive (AppCDS, JDK 17): the JDK's and the jar's classes an agent loads, parsed,
 * verified and laid out once, then mapped by every agent start instead of being read from the jar again. It cuts
 * the CPU an agent spends before its first HA decision by about 40 % (benchmarks/startup.sh; README). The class list is a resource
 * of the jar ({@value #CLASS_LIST}, made with {@code -XX:DumpLoadedClassList} from real agents), so the archive is
 * made on the machine from the jar alone, into {@code pgha-<jar size>-<jar mtime>.jsa} beside the jar (or under
 * {@code ~/.cache/pgha} when that directory is not writable): by {@code bin/pgha class-archive} (images, packages),
 * or in the background at nice 19 by the first {@code bin/pgha} start that finds none (about 10 s of CPU, once per
 * build; that start runs without it).
 *
 * <p>Never a reason not to start: the archive is written to a temporary file, checked by a JVM that must map it
 * ({@code -Xshare:on}) and only then renamed into place, because a truncated archive crashes the JVM that maps it;
 * any failure leaves no archive and the agent starts without one. The JVM itself ignores an archive made from
 * another jar or another JDK ({@code -Xshare:auto}).
 *
 * <p>To regenerate the class list (when many classes were renamed: {@code ClassArchiveTest}), run two agents
 * (a primary and its replica) with {@code PGHA_JAVA_OPTS=-XX:DumpLoadedClassList=FILE} (one file each), query
 * their REST API, stop them, and merge the files (first file, then the new lines of the second).
 *
 * <p>Usage (bin/pgha): {@code java -cp pgha.jar io.pgha.launch.ClassArchive <jar> <dir>} prints the archive's path
 * when it exists or was made, else a one-line reason on stderr; exit status 0 either way.
 */
public final class ClassArchive {
  static final String CLASS_LIST = "/io/pgha/launch/agent.classlist";
  private static final long DUMP_TIMEOUT_S = 300;

  private ClassArchive() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: ClassArchive <jar> <dir>");
      System.exit(2);
    }
    try {
      System.out.println(make(Path.of(args[0]).toAbsolutePath(), Path.of(args[1]).toAbsolutePath()));
    } catch (IOException | RuntimeException e) {
      System.err.println("pgha: no class-data archive (the agent starts without one, about twice the CPU): "
          + e.getMessage());
    }
  }

  /** {@code <dir>/pgha-<jar size>-<jar mtime s>.jsa}; bin/pgha names it the same way ({@code stat -c %s-%Y}). */
  public static Path archiveFor(Path jar, Path dir) throws IOException {
    long mtime = Files.getLastModifiedTime(jar).to(TimeUnit.SECONDS);
    return dir.resolve("pgha-" + Files.size(jar) + "-" + mtime + ".jsa");
  }

  /** The archive beside {@code jar} when one was made for this jar, for the agents the tests start. */
  public static Optional<Path> existing(Path jar) {
    try {
      Path archive = archiveFor(jar, jar.toAbsolutePath().getParent());
      return Files.isRegularFile(archive) ? Optional.of(archive) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The JVM flags that map {@code archive}; the JVM ignores a stale one, and its CDS warnings are switched off. */
  public static List<String> flags(Path archive) {
    return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds*=off");
  }

  /**
   * Makes the archive for {@code jar} in {@code dir} unless it is there, and removes archives of older jars there.
   * One maker at a time per directory (a lock file); the loser finds the archive made.
   */
  public static synchronized Path make(Path jar, Path dir) throws IOException {
    Path archive = archiveFor(jar, dir);
    if (Files.isRegularFile(archive)) return archive;
    Files.createDirectories(dir);
    try (var lockChannel = java.nio.channels.FileChannel.open(dir.resolve(".pgha-jsa.lock"),
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
        var lock = lockChannel.lock()) {
      if (Files.isRegularFile(archive)) return archive;
      Path list = Files.createTempFile(dir, ".pgha-classes", ".txt");
      Path tmp = dir.resolve(".pgha-" + ProcessHandle.current().pid() + ".jsa.tmp");
      try (InputStream in = ClassArchive.class.getResourceAsStream(CLASS_LIST)) {
        if (in == null) throw new IOException("the jar has no " + CLASS_LIST);
        Files.copy(in, list, StandardCopyOption.REPLACE_EXISTING);
        run(List.of("-Xshare:dump", "-XX:SharedClassListFile=" + list, "-XX:SharedArchiveFile=" + tmp,
            "-cp", jar.toString()), dir, "dumping the classes");
        List<String> check = new ArrayList<>(AgentProcess.AGENT_JVM_FLAGS);
        check.addAll(List.of("-XX:SharedArchiveFile=" + tmp, "-Xshare:on", "-cp", jar.toString(), "io.pgha.Main",
            "--version"));
        run(check, dir, "checking the archive");
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
        try {
          Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          throw new IOException("cannot rename " + tmp + " atomically in " + dir);
        }
      } finally {
        Files.deleteIfExists(list);
        Files.deleteIfExists(tmp);
      }
      removeOthers(dir, archive);
      return archive;
    }
  }

  private static void run(List<String> args, Path dir, String what) throws IOException {
    List<String> command = new ArrayList<>(List.of(RunAs.javaBinary()));
    command.addAll(args);
    Path output = Files.createTempFile(dir, ".pgha-jsa", ".log");
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
      if (!process.waitFor(DUMP_TIMEOUT_S, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(what + " took over " + DUMP_TIMEOUT_S + " s");
      }
      if (process.exitValue() != 0) {
        List<String> lines = Files.readAllLines(output);
        String last = lines.isEmpty() ? "" : ": " + lines.get(lines.size() - 1);
        throw new IOException(what + " failed (exit " + process.exitValue() + ")" + last);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(what + " interrupted");
    } finally {
      Files.deleteIfExists(output);
    }
  }

  private static void removeOthers(Path dir, Path keep) {
    try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "pgha-*.jsa")) {
      for (Path p : old) if (!p.equals(keep)) Files.deleteIfExists(p);
    } catch (IOException e) {
      // an old archive left behind costs disk only
    }
  }
}
