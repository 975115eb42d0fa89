package io.pgha.launch;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Processes this JVM started that must not outlive it. One shutdown hook SIGKILLs whatever is still running when
 * the JVM exits without having stopped them (a test fork killed on timeout, an uncaught error), so no agent or
 * ZooKeeper server is left behind holding ports. Orderly stops happen before that, in the owners' close().
 */
final class ChildProcesses {

  private static final Set<ProcessHandle> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ChildProcesses::killAll, "pgha-kill-children"));
  }

  private ChildProcesses() {}

  static void register(ProcessHandle process) {
    LIVE.add(process);
    process.onExit().thenRun(() -> LIVE.remove(process));
  }

  private static void killAll() {
    for (ProcessHandle process : LIVE) {
      if (process.isAlive()) {
        process.destroyForcibly();
      }
    }
  }
}
