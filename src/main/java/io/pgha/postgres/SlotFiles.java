package io.pgha.postgres;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes copied logical slot state files into {@code pg_replslot}, as Patroni's {@code copy_logical_slots} does:
 * {@code <name>.tmp/state} written and fsynced, then renamed to {@code <name>}; owned like the data directory. Only
 * while postgres is stopped: it reads the slots at start.
 */
public final class SlotFiles {
  private SlotFiles() {}

  public static void write(Path dataDir, Map<String, byte[]> states) throws IOException {
    Path replslot = dataDir.resolve("pg_replslot");
    UserPrincipal owner = Files.getOwner(dataDir);
    for (Map.Entry<String, byte[]> e : states.entrySet()) {
      if (!e.getKey().matches("[a-z0-9_]{1,63}")) throw new IOException("bad slot name " + e.getKey());
      Path dir = replslot.resolve(e.getKey());
      Path tmp = replslot.resolve(e.getKey() + ".tmp");
      deleteTree(tmp);
      Files.createDirectory(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Path state = tmp.resolve("state");
      try (FileChannel out = FileChannel.open(state, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        out.write(ByteBuffer.wrap(e.getValue()));
        out.force(true);
      }
      Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rw-------"));
      if (!owner.equals(Files.getOwner(tmp))) {
        Files.setOwner(state, owner);
        Files.setOwner(tmp, owner);
      }
      deleteTree(dir);
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    }
    try (FileChannel d = FileChannel.open(replslot, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private static void deleteTree(Path path) throws IOException {
    if (!Files.exists(path)) return;
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }
}
