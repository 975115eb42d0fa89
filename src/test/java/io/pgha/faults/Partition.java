package io.pgha.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Cuts one member off ZooKeeper with iptables: every member reaches the ensemble on a loopback address of its own,
 * and DROP rules on that address and the servers' client ports (both directions) silence its traffic while
 * leaving everyone else's, the quorum's and the observer's alone. Rules are deleted on heal and at clean-up.
 */
final class Partition implements Runnable {

  private final String iptables;
  private final String address;
  private final List<Integer> ports;
  private final List<List<String>> rules = new ArrayList<>();

  private Partition(String iptables, String address, List<Integer> ports) {
    this.iptables = iptables;
    this.address = address;
    this.ports = ports;
  }

  /**
   * The iptables binary that works here (nft first, then legacy), or empty with the reason printed once by the
   * caller: {@code Optional.empty()} means the partition fault must be skipped.
   */
  static Optional<String> iptables() {
    for (String candidate : List.of("iptables", "iptables-legacy")) {
      if (run(List.of(candidate, "-w", "5", "-S", "INPUT")) == 0) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  static Partition cut(String iptables, String address, List<Integer> ports) {
    Partition partition = new Partition(iptables, address, ports);
    Processes.onCleanUp(partition);
    for (int port : ports) {
      partition.insert(List.of("-d", address, "-p", "tcp", "--dport", Integer.toString(port), "-j", "DROP"));
      partition.insert(List.of("-s", address, "-p", "tcp", "--sport", Integer.toString(port), "-j", "DROP"));
    }
    return partition;
  }

  private void insert(List<String> rule) {
    List<String> command = new ArrayList<>(List.of(iptables, "-w", "5", "-I", "INPUT"));
    command.addAll(rule);
    if (run(command) != 0) {
      heal();
      throw new IllegalStateException("cannot add iptables rule: " + String.join(" ", command));
    }
    rules.add(rule);
  }

  /** Deletes every rule this partition added. */
  void heal() {
    for (List<String> rule : List.copyOf(rules)) {
      List<String> command = new ArrayList<>(List.of(iptables, "-w", "5", "-D", "INPUT"));
      command.addAll(rule);
      if (run(command) != 0) {
        System.err.println("faults: could not delete iptables rule " + String.join(" ", command));
      }
      rules.remove(rule);
    }
    Processes.done(this);
  }

  @Override
  public void run() {
    heal();
  }

  @Override
  public String toString() {
    return "partition of " + address + " from ZooKeeper ports " + ports;
  }

  private static int run(List<String> command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return -1;
      }
      if (process.exitValue() != 0 && output.length > 0) {
        System.err.println("faults: " + String.join(" ", command) + ": "
            + new String(output, StandardCharsets.UTF_8).trim());
      }
      return process.exitValue();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
