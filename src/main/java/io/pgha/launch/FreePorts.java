package io.pgha.launch;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1 for servers started later by other processes (ZooKeeper, REST APIs, PostgreSQL).
 * Ports are drawn at random below the kernel's ephemeral range (32768+ on Linux), so an outgoing connection cannot
 * take one between the check and the bind, and never handed out twice by this JVM. Several clusters run on one
 * machine at once, so fixed ports are never used.
 */
public final class FreePorts {

  private static final int LOW = 15_000;
  private static final int HIGH = 32_000;
  private static final int ATTEMPTS_MAX = 1_000;
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  /** A port nobody listens on now and that this JVM has not handed out before. */
  public static int next() {
    for (int attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOW, HIGH);
      if (!HANDED_OUT.contains(port) && isFree(port) && HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port in [" + LOW + ", " + HIGH + ") after " + ATTEMPTS_MAX + " tries");
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
