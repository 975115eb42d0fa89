package io.pgha.demo;

import sun.misc.Signal;

/**
 * SIGINT and SIGTERM as a request to stop in an orderly way. A shutdown hook would run concurrently with other hooks
 * and could not take its time stopping agents; a handler lets the main thread do the stopping, then exit 0.
 */
final class Signals {

  private Signals() {}

  static void onInterruptOrTerminate(Runnable action) {
    for (String name : new String[] {"INT", "TERM"}) {
      Signal.handle(new Signal(name), signal -> action.run());
    }
  }
}
