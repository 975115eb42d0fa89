package io.pgha.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;

/**
 * For a node-kill run against an ensemble: which session owned the leader key when the leader was killed, on which
 * server and with what timeout ZooKeeper <em>granted</em> it (from the servers' {@code cons} and {@code srvr} answers),
 * and when this watcher, a ZooKeeper client of its own, saw the key go and a new one come. So a slow takeover splits
 * into kill → key gone (the server's expiry) and key gone → key taken → first write (the candidate).
 */
final class LeaderKeyTimeline implements AutoCloseable {
  private static final Pattern SID = Pattern.compile("sid=0x([0-9a-f]+)[^)]*?to=(\\d+)");

  private final CuratorFramework client;
  private final CuratorCache cache;
  private final String leaderPath;
  private final List<String> servers;
  private volatile long goneNanos;
  private volatile long takenNanos;
  private volatile long armedNanos = Long.MAX_VALUE;

  LeaderKeyTimeline(String connectString, String basePath) {
    this.servers = List.of(connectString.split(","));
    this.leaderPath = basePath + "/leader";
    this.client = CuratorFrameworkFactory.builder().connectString(connectString).sessionTimeoutMs(10_000)
        .connectionTimeoutMs(2_000).retryPolicy(new RetryOneTime(200)).build();
    client.start();
    this.cache = CuratorCache.build(client, leaderPath, CuratorCache.Options.SINGLE_NODE_CACHE);
    cache.listenable().addListener(CuratorCacheListener.builder()
        .forDeletes(old -> {
          long now = System.nanoTime();
          if (now >= armedNanos && goneNanos == 0) goneNanos = now;
        })
        .forCreates(node -> {
          long now = System.nanoTime();
          if (now >= armedNanos && goneNanos != 0 && takenNanos == 0) takenNanos = now;
        })
        .build());
    cache.start();
  }

  /** What owned the key just before the kill (call right before it); resets the watch times. */
  String arm() {
    goneNanos = 0;
    takenNanos = 0;
    String owner;
    try {
      Stat stat = client.checkExists().forPath(leaderPath);
      owner = stat == null ? "no leader key" : describeSession(stat.getEphemeralOwner());
    } catch (Exception e) {
      owner = "leader key unreadable: " + e;
    }
    armedNanos = System.nanoTime();
    return owner;
  }

  /** kill → key gone → key taken, in seconds from {@code killNanos} (−1 when not seen). */
  String split(long killNanos, long writeNanos) {
    return String.format("key gone %.3f, key taken %.3f, first write %.3f", since(killNanos, goneNanos),
        since(killNanos, takenNanos), since(killNanos, writeNanos));
  }

  double goneSeconds(long killNanos) {
    return since(killNanos, goneNanos);
  }

  private static double since(long from, long at) {
    return at == 0 ? -1 : (at - from) / 1e9;
  }

  private String describeSession(long sessionId) {
    String hex = Long.toHexString(sessionId);
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      String mode = mode(fourLetter(servers.get(i), "srvr"));
      Matcher m = SID.matcher(fourLetter(servers.get(i), "cons"));
      while (m.find()) {
        if (m.group(1).equals(hex)) seen.add("server " + (i + 1) + " (" + mode + "), granted " + m.group(2) + " ms");
      }
    }
    return "session 0x" + hex + (seen.isEmpty() ? " (no server lists its connection)" : " on " + String.join(", ", seen));
  }

  private static String mode(String srvr) {
    for (String line : srvr.split("\\R")) if (line.startsWith("Mode:")) return line.substring(5).trim();
    return "?";
  }

  private static String fourLetter(String hostPort, String word) {
    int colon = hostPort.lastIndexOf(':');
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1))),
          500);
      socket.setSoTimeout(1000);
      socket.getOutputStream().write(word.getBytes(StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  @Override
  public void close() {
    cache.close();
    client.close();
  }
}
