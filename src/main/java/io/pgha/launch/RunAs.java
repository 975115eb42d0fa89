package io.pgha.launch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runs PostgreSQL-touching processes as an unprivileged user when this JVM is root: {@code initdb} and the
 * postmaster refuse to run as root, and so does the agent. The user is {@code postgres} unless
 * {@value #USER_ENV} names another one. When this JVM is not root, commands run unchanged as the current user.
 */
public final class RunAs {

  /** Environment variable that overrides the unprivileged user chosen when running as root. */
  public static final String USER_ENV = "PGHA_RUN_AS_USER";

  private static final String DEFAULT_USER = "postgres";

  private RunAs() {}

  /** Whether this JVM's effective user is root (uid 0). */
  public static boolean isRoot() {
    return CurrentUser.UID == 0;
  }

  /** The user that PostgreSQL-touching processes must run as, or empty when they can run as the current user. */
  public static Optional<String> unprivilegedUser() {
    if (!isRoot()) {
      return Optional.empty();
    }
    String configured = System.getenv(USER_ENV);
    return Optional.of(configured == null || configured.isBlank() ? DEFAULT_USER : configured.trim());
  }

  /**
   * The command prefixed so that it runs as {@link #unprivilegedUser()}, or unchanged when not root. {@code setpriv}
   * execs the command, so the started process's pid is the command's own pid and signals reach it directly.
   */
  public static List<String> wrap(List<String> command) {
    Optional<String> user = unprivilegedUser();
    if (user.isEmpty()) {
      return List.copyOf(command);
    }
    Account account = Account.lookup(user.get());
    List<String> wrapped = new ArrayList<>();
    wrapped.add("setpriv");
    wrapped.add("--reuid=" + account.uid());
    wrapped.add("--regid=" + account.gid());
    wrapped.add("--init-groups");
    wrapped.add("--");
    wrapped.addAll(command);
    return wrapped;
  }

  /**
   * Environment entries a process started through {@link #wrap} needs to look like a login of that user: setpriv
   * keeps root's HOME, and tools such as psql read {@code ~/.pgpass} and {@code ~/.psqlrc} from there.
   */
  public static Map<String, String> environment() {
    return unprivilegedUser()
        .map(Account::lookup)
        .map(a -> Map.of("HOME", a.home(), "USER", a.name(), "LOGNAME", a.name()))
        .orElse(Map.of());
  }

  /** Gives {@code root} and everything below it to {@code user} (and its primary group). Needs root. */
  public static void chownRecursive(Path root, String user) {
    Account account = Account.lookup(user);
    try {
      UserPrincipalLookupService lookup = root.getFileSystem().getUserPrincipalLookupService();
      UserPrincipal owner = lookup.lookupPrincipalByName(account.name());
      GroupPrincipal group = lookup.lookupPrincipalByGroupName(account.group());
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
          setOwner(dir, owner, group);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          setOwner(file, owner, group);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot chown " + root + " to " + user, e);
    }
  }

  private static void setOwner(Path path, UserPrincipal owner, GroupPrincipal group) throws IOException {
    PosixFileAttributeView view =
        Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    view.setOwner(owner);
    view.setGroup(group);
  }

  /**
   * Creates {@code dir} (and parents) if needed and, when running as root, hands it to the unprivileged user, so
   * that the user can write there. Returns {@code dir}.
   */
  public static Path ownedDirectory(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
    unprivilegedUser().ifPresent(user -> chownRecursive(dir, user));
    return dir;
  }

  /**
   * Copies {@code file} into {@code dir} so that the unprivileged user can read it: a checkout under {@code /root}
   * is not traversable by {@code postgres}. Returns the copy, readable by everyone.
   */
  public static Path shareReadable(Path file, Path dir) {
    try {
      Files.createDirectories(dir);
      Path copy = dir.resolve(file.getFileName());
      Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
      Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
      unprivilegedUser().ifPresent(user -> chownRecursive(copy, user));
      return copy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + file + " into " + dir, e);
    }
  }

  /** The java launcher of this JVM, so child JVMs run the same Java version. */
  public static String javaBinary() {
    Path fromHome = Path.of(System.getProperty("java.home"), "bin", "java");
    if (Files.isExecutable(fromHome)) {
      return fromHome.toString();
    }
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** One line of {@code getent passwd} / {@code getent group}, resolved once per call. */
  record Account(String name, int uid, int gid, String group, String home) {

    static Account lookup(String user) {
      String[] passwd = getent("passwd", user).split(":", -1);
      if (passwd.length < 7) {
        throw new IllegalStateException("no such user: " + user + " (set " + USER_ENV + ")");
      }
      int gid = Integer.parseInt(passwd[3]);
      String[] group = getent("group", Integer.toString(gid)).split(":", -1);
      return new Account(passwd[0], Integer.parseInt(passwd[2]), gid, group[0], passwd[5]);
    }

    private static String getent(String database, String key) {
      try {
        Process p = new ProcessBuilder("getent", database, key).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0 || out.isEmpty()) {
          throw new IllegalStateException("getent " + database + " " + key + " found nothing (set " + USER_ENV + ")");
        }
        return out.lines().findFirst().orElseThrow();
      } catch (IOException e) {
        throw new UncheckedIOException("getent " + database + " " + key, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while running getent", e);
      }
    }
  }

  /**
   * The effective uid of this JVM: the owner of {@code /proc/self} is the process's effective user, which is
   * robust where {@code user.name} is not (it follows $USER/HOME lookups and can be overridden with -D).
   */
  private static final class CurrentUser {
    static final int UID = readUid();

    private static int readUid() {
      try {
        Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        return (Integer) uid;
      } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
        return idDashU();
      }
    }

    private static int idDashU() {
      try {
        Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor();
        return Integer.parseInt(out);
      } catch (IOException | NumberFormatException e) {
        return "root".equals(System.getProperty("user.name")) ? 0 : -1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "root".equals(System.getProperty("user.name")) ? 0 : -1;
      }
    }
  }
}
