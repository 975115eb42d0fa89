package io.pgha.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a short-lived command to completion with a deadline. Blocking: call it from a worker, never an event loop. */
public final class ProcessRunner {
  private ProcessRunner() {}

  /** Exit code and the combined output (stdout + stderr, the last 64 KiB). */
  public record Result(int exitCode, String output) {
    public boolean ok() {
      return exitCode == 0;
    }

    /** The last non-empty line of the output, for one-line error messages. */
    public String lastLine() {
      String[] lines = output.strip().split("\n");
      return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
  }

  public static Result run(List<String> command, Map<String, String> env, Duration timeout) throws IOException {
    Path out = Files.createTempFile("pgha-cmd", ".out");
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.environment().putAll(env);
      Process process = pb.start();
      boolean finished;
      try {
        finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException(command.get(0) + " interrupted");
      }
      if (!finished) {
        process.destroyForcibly();
        throw new IOException(Path.of(command.get(0)).getFileName() + " did not finish within " + timeout.toSeconds()
            + " s");
      }
      return new Result(process.exitValue(), tail(out));
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private static String tail(Path file) throws IOException {
    byte[] all = Files.readAllBytes(file);
    int from = Math.max(0, all.length - 65536);
    return new String(all, from, all.length - from, StandardCharsets.UTF_8);
  }
}
