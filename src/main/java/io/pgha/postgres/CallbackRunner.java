package io.pgha.postgres;

import io.pgha.config.ShellWords;
import java.io.File;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code postgresql.callbacks} (patroni-compat §9.1) as Patroni does: {@code <command split shell-style> <action>
 * <role> <scope>}, as the agent's own user, without waiting for it. One callback at a time: starting one kills a
 * previous one that still runs, with its children; {@code on_reload} has a slot of its own. Unlike Patroni, each
 * callback also has a time limit, after which it is killed the same way.
 *
 * <p>Nothing here blocks the caller: process start-up and kills happen on one thread of the runner's own, in the
 * order {@link #fire} was called; a callback's end (exit code, time out, kill) is reported to the listener, from
 * another thread. A failing callback is logged and reported, never retried, and never holds up anything else.
 */
public final class CallbackRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CallbackRunner.class);
  /** How long a callback may run when the configuration says nothing: long enough for a VIP move or a DNS update. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
  public static final String ON_RELOAD = "on_reload";

  /** How a callback ended. */
  public enum Outcome {
    /** Exit code 0. */
    OK,
    /** A non-zero exit code. */
    FAILED,
    /** Still running after the time limit: killed. */
    TIMED_OUT,
    /** Still running when the next callback started: killed, as Patroni does. */
    KILLED,
    /** The command could not be parsed or started. */
    NOT_STARTED
  }

  /** @param exitCode null when the process never started */
  public record Result(String action, String role, List<String> command, Outcome outcome, Integer exitCode,
      long durationMs) {}

  private final Map<String, String> commands;
  private final String scope;
  private final Duration timeout;
  private final Consumer<Result> listener;
  private final ScheduledExecutorService thread;
  /** The callback in each slot (0: every action but on_reload, 1: on_reload); touched only on {@link #thread}. */
  private final Running[] slots = new Running[2];

  /**
   * @param commands action ({@code on_start}...) to its command line, as in {@code postgresql.callbacks}
   * @param listener told how each callback that was started (or could not be) ended
   */
  public CallbackRunner(Map<String, String> commands, String scope, Duration timeout, Consumer<Result> listener) {
    this.commands = Map.copyOf(commands);
    this.scope = scope;
    this.timeout = timeout;
    this.listener = listener;
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "pgha-callbacks");
      t.setDaemon(true);
      return t;
    });
  }

  /** Whether a command is configured for {@code action}. */
  public boolean has(String action) {
    return commands.containsKey(action);
  }

  /** Starts the callback configured for {@code action} with {@code role}, if there is one; returns at once. */
  public void fire(String action, String role) {
    String line = commands.get(action);
    if (line == null) return;
    try {
      thread.execute(() -> launch(action, role, line));
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      LOG.warn("callback {} not run: the agent is stopping", action);
    }
  }

  /** Waits (at most {@code max}) until every callback fired so far has been started. */
  public void awaitStarted(Duration max) {
    try {
      thread.submit(() -> { }).get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | java.util.concurrent.RejectedExecutionException e) {
      LOG.debug("callbacks not all started: {}", e.toString());
    }
  }

  /** Stops taking callbacks; those running go on, as Patroni leaves them when it exits. */
  @Override
  public void close() {
    thread.shutdown();
  }

  private void launch(String action, String role, String line) {
    int slot = ON_RELOAD.equals(action) ? 1 : 0;
    Running previous = slots[slot];
    if (previous != null && previous.process.isAlive()) {
      previous.endedBy = Outcome.KILLED;
      LOG.warn("killing callback {} (pid {}): it was still running when {} started", previous.command,
          previous.process.pid(), action);
      kill(previous.process);
    }
    slots[slot] = null;
    List<String> command;
    try {
      command = new ArrayList<>(ShellWords.split(line));
    } catch (IllegalArgumentException e) {
      report(new Result(action, role, List.of(line), Outcome.NOT_STARTED, null, 0), e.getMessage());
      return;
    }
    if (command.isEmpty()) {
      report(new Result(action, role, List.of(line), Outcome.NOT_STARTED, null, 0), "empty command");
      return;
    }
    command.add(action);
    command.add(role);
    command.add(scope);
    Process process;
    long startedNanos = System.nanoTime();
    try {
      process = startDetachedFromInput(command);
    } catch (IOException | RuntimeException e) {
      report(new Result(action, role, command, Outcome.NOT_STARTED, null, 0), e.getMessage());
      return;
    }
    LOG.info("callback {} started (pid {})", command, process.pid());
    Running running = new Running(command, process);
    slots[slot] = running;
    ScheduledFuture<?> limit = thread.schedule(() -> {
      if (process.isAlive() && running.endedBy == null) {
        running.endedBy = Outcome.TIMED_OUT;
        kill(process);
      }
    }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    process.onExit().thenAccept(p -> {
      limit.cancel(false);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
      Outcome outcome = running.endedBy != null ? running.endedBy : p.exitValue() == 0 ? Outcome.OK : Outcome.FAILED;
      String why = switch (outcome) {
        case OK -> null;
        case FAILED -> "exited with code " + p.exitValue();
        case TIMED_OUT -> "killed after " + timeout.toMillis() + " ms";
        default -> "killed: the next callback started";
      };
      report(new Result(action, role, command, outcome, p.exitValue(), ms), why);
    });
  }

  private void report(Result result, String why) {
    if (result.outcome() == Outcome.OK) {
      LOG.info("callback {} finished in {} ms", result.command(), result.durationMs());
    } else {
      LOG.warn("callback {} {}: {}", result.command(), result.outcome().name().toLowerCase(java.util.Locale.ROOT),
          why);
    }
    try {
      listener.accept(result);
    } catch (RuntimeException e) {
      LOG.warn("callback listener failed: {}", e.toString());
    }
  }

  /** Starts a hook or callback: no standard input, its output into the agent's. */
  static Process startDetachedFromInput(List<String> command) throws IOException {
    return new ProcessBuilder(command)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.INHERIT)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }

  /** Kills the process and the children it had a moment ago (Patroni suspends it first; Java cannot). */
  static void kill(Process process) {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
  }

  private static final class Running {
    final List<String> command;
    final Process process;
    /** Set before a kill, so that the exit is reported for what it was. */
    volatile Outcome endedBy;

    Running(List<String> command, Process process) {
      this.command = command;
      this.process = process;
    }
  }
}
