package io.pgha.guard;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The fencing guard process: {@code fencing-guard.sh}, shipped in the jar, written to the runtime directory and
 * started with {@code setsid}, so that a signal to the agent (or to its process group) does not reach it. Lines go
 * to its stdin through a bounded queue and a thread of their own: a guard that stopped reading can never block the
 * HA loop. Its stdout lines ({@code fired ...}, {@code refused ...}) come back through {@code onLine}.
 *
 * <p>{@link #close()} only closes its stdin: a disarmed guard then exits; an armed one keeps its deadline. An agent
 * never kills a guard, its own or one left by an earlier agent: that guard may be all that fences a primary whose
 * old session still holds the key.
 */
public final class GuardProcess implements FencingGuard.Channel, AutoCloseable {
  public static final String SCRIPT_RESOURCE = "/io/pgha/guard/fencing-guard.sh";
  private static final int QUEUE_LINES = 64;
  @SuppressWarnings("StringOperationCanBeSimplified")
  private static final String END = new String("end of input");

  private final Path dir;
  private final Path watchdogDevice;
  private final Consumer<String> onLine;
  private final IntConsumer onExit;
  private volatile Instance current;
  private volatile boolean closed;

  /**
   * @param watchdogDevice a watchdog device the guard opens while armed, or null
   * @param onLine each line the guard prints, on a thread of this class
   * @param onExit the guard's exit code when it ended by itself (not after {@link #close()}), on a thread of this class
   */
  public GuardProcess(Path dir, Path watchdogDevice, Consumer<String> onLine, IntConsumer onExit) {
    this.dir = dir;
    this.watchdogDevice = watchdogDevice;
    this.onLine = onLine;
    this.onExit = onExit;
  }

  public static Path scriptFile(Path dir) {
    return dir.resolve("fencing-guard.sh");
  }

  public static Path logFile(Path dir) {
    return dir.resolve("fencing-guard.log");
  }

  public static Path markerFile(Path dir) {
    return dir.resolve("fencing-guard.fired");
  }

  /** Writes the script out (a new file: a guard still running reads the old one) and starts a guard. */
  public synchronized void start() throws IOException {
    if (closed) throw new IOException("closed");
    Files.createDirectories(dir);
    Path script = writeScript(dir);
    List<String> command = new ArrayList<>(List.of("setsid", "bash", script.toString(), logFile(dir).toString(),
        markerFile(dir).toString()));
    if (watchdogDevice != null) command.add(watchdogDevice.toString());
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.appendTo(logFile(dir).toFile()));
    Process process = builder.start();
    current = new Instance(process);
  }

  /** The script from the jar, in {@code dir}. */
  public static Path writeScript(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path script = scriptFile(dir);
    byte[] content;
    try (InputStream in = GuardProcess.class.getResourceAsStream(SCRIPT_RESOURCE)) {
      if (in == null) throw new IOException("resource " + SCRIPT_RESOURCE + " is missing from the jar");
      content = in.readAllBytes();
    }
    Path tmp = Files.createTempFile(dir, "fencing-guard", ".sh.tmp");
    Files.write(tmp, content);
    Files.move(tmp, script, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return script;
  }

  public long pid() {
    Instance i = current;
    return i == null ? -1 : i.process.pid();
  }

  public boolean alive() {
    Instance i = current;
    return i != null && i.process.isAlive();
  }

  @Override
  public boolean send(String line) {
    Instance i = current;
    return i != null && i.process.isAlive() && i.queue.offer(line);
  }

  /**
   * Takes the lines the guard appended to its marker file (one per fire, by this agent's guard or an earlier one's)
   * and removes it; empty if it has not fired.
   */
  public static List<String> takeFires(Path dir) {
    Path marker = markerFile(dir);
    if (!Files.exists(marker)) return List.of();
    Path taken = dir.resolve("fencing-guard.fired.taken");
    try {
      Files.move(marker, taken, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      List<String> lines = Files.readAllLines(taken, StandardCharsets.UTF_8).stream()
          .filter(l -> !l.isBlank()).toList();
      Files.deleteIfExists(taken);
      return lines;
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      return List.of("(marker " + marker + " unreadable: " + e.getMessage() + ")");
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    Instance i = current;
    if (i != null) i.close();
  }

  private final class Instance {
    final Process process;
    final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE_LINES);

    Instance(Process process) {
      this.process = process;
      Thread writer = new Thread(this::write, "pgha-guard-writer-" + process.pid());
      writer.setDaemon(true);
      writer.start();
      Thread reader = new Thread(this::read, "pgha-guard-reader-" + process.pid());
      reader.setDaemon(true);
      reader.start();
    }

    private void write() {
      OutputStream out = process.getOutputStream();
      try {
        while (true) {
          String line = queue.take();
          if (line == END) break; // identity: only close() puts this very string
          out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // the guard is gone: the reader reports its exit
      } finally {
        try {
          out.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    }

    private void read() {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.US_ASCII))) {
        String line;
        while ((line = in.readLine()) != null) onLine.accept(line);
      } catch (IOException ignored) {
        // end of its output
      }
      int code;
      try {
        code = process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (!closed && current == this) onExit.accept(code);
    }

    void close() {
      try {
        // after the lines already queued; the writer then closes stdin (a guard that reads nothing: the JVM's exit does)
        queue.offer(END, 1, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
