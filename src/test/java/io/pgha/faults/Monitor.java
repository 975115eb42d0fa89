package io.pgha.faults;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Watches the cluster in the background: leader key changes (polled every 250 ms on the observer's own ZooKeeper
 * address) and the fencing guard's fire counter on each member's /metrics (every second; a restarted agent's
 * counter starting again from zero counts as its new value).
 */
final class Monitor implements AutoCloseable {

  private final FaultCluster cluster;
  private final Thread thread;
  private volatile boolean running = true;
  private String lastLeader;
  private int leaderChanges;
  private double guardFires;
  private final Map<String, Double> lastFires = new HashMap<>();

  Monitor(FaultCluster cluster) {
    this.cluster = cluster;
    this.thread = new Thread(this::watch, "fault-monitor");
    thread.setDaemon(true);
    thread.start();
  }

  /** Starts counting afresh (at a fault's start). */
  synchronized void reset() {
    leaderChanges = 0;
    guardFires = 0;
  }

  synchronized int leaderChanges() {
    return leaderChanges;
  }

  synchronized double guardFires() {
    return guardFires;
  }

  private void watch() {
    long nextMetrics = 0;
    while (running) {
      cluster.snapshot().ifPresent(view -> {
        String leader = view.leader();
        synchronized (this) {
          if (leader != null) {
            if (lastLeader != null && !leader.equals(lastLeader)) {
              leaderChanges++;
            }
            lastLeader = leader;
          }
        }
      });
      if (System.nanoTime() >= nextMetrics) {
        nextMetrics = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        for (String name : cluster.names()) {
          OptionalDouble fires = Checks.guardFires(cluster, name);
          if (fires.isPresent()) {
            synchronized (this) {
              Double last = lastFires.put(name, fires.getAsDouble());
              if (last != null) {
                guardFires += fires.getAsDouble() >= last ? fires.getAsDouble() - last : fires.getAsDouble();
              }
            }
          }
        }
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
