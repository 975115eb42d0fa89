package io.pgha.faults;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The faults the suite injects, by the names {@code --faults} takes. */
enum Fault {
  FREEZE_AGENT("freeze-agent", true, "leader's agent SIGSTOPped (postgres runs on) for 2 x ttl, then SIGCONT"),
  KILL_AGENT("kill-agent", true, "leader's agent SIGKILLed alone (postgres runs on), restarted after 2 x ttl"),
  ZK_PARTITION("zk-partition", true, "leader's ZooKeeper traffic dropped (iptables) for 2 x ttl, then healed"),
  ZK_LEADER_KILL("zk-leader-kill", false, "ensemble's leader server SIGKILLed, restarted after 2 x ttl"),
  ZK_MINORITY("zk-minority", false, "one follower server SIGKILLed, restarted after 2 x ttl"),
  ZK_FREEZE("zk-freeze", false, "all three ZooKeeper servers SIGSTOPped for ttl + 5 s"),
  SWITCHOVER_KILL_CANDIDATE("switchover-kill-candidate", false,
      "POST /switchover, the candidate's node (agent, postmaster, backends) SIGKILLed 0-400 ms later, "
          + "restarted after 2 x ttl"),
  SWITCHOVER_KILL_OLD_PRIMARY("switchover-kill-old-primary", false,
      "POST /switchover, the old primary's node SIGKILLed 0-400 ms later, restarted after 2 x ttl");

  final String label;
  /** Whether the fault takes the leader away, so a takeover within ttl + 2 s is expected. */
  final boolean leaderFault;
  final String description;

  Fault(String label, boolean leaderFault, String description) {
    this.label = label;
    this.leaderFault = leaderFault;
    this.description = description;
  }

  static Fault byLabel(String label) {
    return Arrays.stream(values()).filter(f -> f.label.equals(label.trim())).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown fault '" + label.trim() + "'; known: "
            + Arrays.stream(values()).map(f -> f.label).collect(Collectors.joining(","))));
  }

  static List<Fault> parse(String list) {
    if (list == null || list.isBlank() || list.equals("all")) {
      return List.of(values());
    }
    if (list.equals("none")) {
      // only the --healthy run
      return List.of();
    }
    return Arrays.stream(list.split(",")).map(Fault::byLabel).toList();
  }
}
