package io.pgha.postgres;

import io.pgha.config.ShellWords;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The synchronous hooks {@code postgresql.pre_promote} and {@code postgresql.before_stop}, run as Patroni runs them
 * ({@code postgresql/__init__.py} {@code _pre_promote}, {@code _before_stop}): the command split shell-style, no
 * arguments added, the agent's own user and environment, and the caller waits for its exit. Unlike Patroni, the wait
 * is bounded: a script still running at the limit is killed with its children and counts as failed.
 *
 * <p>{@link #run} blocks: call it on a worker thread, never on the HA loop's.
 */
public final class HookScript {
  private static final Logger LOG = LoggerFactory.getLogger(HookScript.class);

  private HookScript() {}

  /**
   * How a hook ended.
   *
   * @param exitCode the exit code; null when it could not be started or was killed at the limit
   * @param why null on exit code 0, else what went wrong, for the log
   */
  public record Result(Integer exitCode, String why, long durationMs) {
    public boolean succeeded() {
      return exitCode != null && exitCode == 0;
    }
  }

  /** Runs {@code line} as the hook {@code name} and waits at most {@code limit}. Never throws. */
  public static Result run(String name, String line, Duration limit) {
    List<String> command;
    try {
      command = ShellWords.split(line);
    } catch (IllegalArgumentException e) {
      return logged(name, line, new Result(null, "cannot split the command: " + e.getMessage(), 0));
    }
    if (command.isEmpty()) return logged(name, line, new Result(null, "empty command", 0));
    long startNanos = System.nanoTime();
    Process process;
    try {
      process = CallbackRunner.startDetachedFromInput(command);
    } catch (IOException | RuntimeException e) {
      return logged(name, line, new Result(null, "could not start: " + e.getMessage(), 0));
    }
    try {
      boolean exited = process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      if (!exited) {
        CallbackRunner.kill(process);
        return logged(name, line, new Result(null, "still running after " + limit.toMillis() + " ms: killed", ms));
      }
      int code = process.exitValue();
      return logged(name, line, new Result(code, code == 0 ? null : "exited with code " + code, ms));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      return logged(name, line, new Result(null, "interrupted: killed", 0));
    }
  }

  private static Result logged(String name, String line, Result r) {
    if (r.succeeded()) {
      LOG.info("{} script `{}` exited with 0 after {} ms", name, line, r.durationMs());
    } else {
      LOG.warn("{} script `{}` failed: {}", name, line, r.why());
    }
    return r;
  }
}
