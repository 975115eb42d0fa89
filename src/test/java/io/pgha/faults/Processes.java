package io.pgha.faults;

import io.pgha.launch.LocalCluster;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the suite must undo even when it is interrupted (Ctrl-C, a failing IT, an exception): processes it froze get
 * SIGCONT, registered clean-ups run (iptables rules deleted, clusters stopped), processes it started are SIGKILLed.
 * One shutdown hook does it; the orderly path calls {@link #cleanUp()} itself, and it runs each step only once.
 */
final class Processes {

  private static final Set<Long> FROZEN = ConcurrentHashMap.newKeySet();
  private static final Set<ProcessHandle> STARTED = ConcurrentHashMap.newKeySet();
  private static final Deque<Runnable> CLEAN_UPS = new ArrayDeque<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(Processes::cleanUp, "faults-clean-up"));
  }

  private Processes() {}

  static void track(ProcessHandle process) {
    STARTED.add(process);
    process.onExit().thenRun(() -> STARTED.remove(process));
  }

  /** SIGSTOP, remembered so that a clean-up resumes it. */
  static void freeze(long pid) {
    FROZEN.add(pid);
    LocalCluster.signal(pid, "STOP");
  }

  static void thaw(long pid) {
    if (FROZEN.remove(pid)) {
      LocalCluster.signal(pid, "CONT");
    }
  }

  /** Runs {@code cleanUp} at {@link #cleanUp()} (most recent first) unless {@link #done} removed it earlier. */
  static synchronized void onCleanUp(Runnable cleanUp) {
    CLEAN_UPS.push(cleanUp);
  }

  static synchronized void done(Runnable cleanUp) {
    CLEAN_UPS.remove(cleanUp);
  }

  static void cleanUp() {
    for (Long pid : Set.copyOf(FROZEN)) {
      thaw(pid);
    }
    while (true) {
      Runnable next;
      synchronized (Processes.class) {
        next = CLEAN_UPS.poll();
      }
      if (next == null) {
        break;
      }
      try {
        next.run();
      } catch (RuntimeException e) {
        System.err.println("faults: clean-up step failed: " + e);
      }
    }
    STARTED.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }
}
