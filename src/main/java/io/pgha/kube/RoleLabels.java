package io.pgha.kube;

import io.pgha.model.NodeStatus;
import java.util.LinkedHashMap;
import java.util.Map;

/** The labels a member's pod should carry, as Patroni's Kubernetes DCS computes them in {@code touch_member}. */
public final class RoleLabels {
  private RoleLabels() {}

  /**
   * The labels to merge into the pod: the configured {@code labels}, the role label and, when configured, the
   * temporary role label. A null value removes the label (JSON merge patch).
   *
   * <ul>
   *   <li>the member holds the leader key: {@code leader_label_value}, or {@code standby_leader_label_value} for a
   *       standby leader; the temporary label {@code primary};
   *   <li>postgres runs and the member is not primary: {@code follower_label_value} for a replica, else the role as
   *       it is (e.g. {@code uninitialized}); the temporary label the role;
   *   <li>otherwise (postgres stopped, starting, crashed, or a primary without the leader key): no role label, so
   *       that neither the primary nor the replicas Service sends traffic to the pod.
   * </ul>
   */
  public static Map<String, String> desired(NodeStatus s, KubernetesSettings k) {
    String role;
    String tmpRole;
    if (s.leaderLockHeld()) {
      role = "standby_leader".equals(s.role()) ? k.standbyLeaderValue() : k.leaderValue();
      tmpRole = "primary";
    } else if ("running".equals(s.state()) && s.role() != null && !"primary".equals(s.role())
        && !"master".equals(s.role())) {
      role = "replica".equals(s.role()) ? k.followerValue() : s.role();
      tmpRole = s.role();
    } else {
      role = null;
      tmpRole = null;
    }
    Map<String, String> out = new LinkedHashMap<>(k.labels());
    out.put(k.roleLabel(), role);
    if (k.tmpRoleLabel() != null) {
      out.put(k.tmpRoleLabel(), tmpRole);
    }
    return out;
  }

  /** A role change the HA loop has decided on, before the member's status shows it. */
  public enum Transition {
    /** The member promotes: labelled leader before postgres accepts writes. */
    PROMOTING,
    /**
     * The primary demotes (switchover, hand-over, lost key): labelled follower once postgres has stopped taking
     * writes (its postmaster stopped), not before.
     */
    DEMOTING
  }

  private static final java.util.regex.Pattern ROLE = java.util.regex.Pattern.compile(" role=(\\S+)");
  private static final java.util.regex.Pattern ACTION = java.util.regex.Pattern.compile(" action=(\\S+)");

  /**
   * The transition a decision line ({@code ha.decision cycle=.. role=.. action=.. reason=..}) starts, or null: action
   * {@code Promote}; {@code DemoteGraceful}, {@code HandOver}, {@code ReleaseLeader}, or {@code Stop} of a primary.
   */
  public static Transition transition(String decisionLine) {
    if (decisionLine == null) {
      return null;
    }
    java.util.regex.Matcher action = ACTION.matcher(decisionLine);
    java.util.regex.Matcher role = ROLE.matcher(decisionLine);
    if (!action.find()) {
      return null;
    }
    String r = role.find() ? role.group(1) : "";
    return switch (action.group(1)) {
      case "Promote" -> Transition.PROMOTING;
      case "DemoteGraceful", "HandOver", "ReleaseLeader" -> Transition.DEMOTING;
      case "Stop" -> "primary".equals(r) || "promoted".equals(r) ? Transition.DEMOTING : null;
      default -> null;
    };
  }

  /**
   * Whether the member's status has caught up with {@code t}, so that {@link #desired} applies again. A demotion is
   * over once postgres stopped ({@code pgStopped}) and either the key is gone or postgres runs again after the stop
   * ({@code pgRestarted}: as a replica, or as the primary again when the switchover's candidate fell behind).
   */
  public static boolean reached(Transition t, NodeStatus s, boolean pgStopped, boolean pgRestarted) {
    if (t == Transition.PROMOTING) {
      return !"promoted".equals(s.role());
    }
    return pgStopped && (!s.leaderLockHeld() || pgRestarted && "running".equals(s.state()));
  }

  /** The labels while {@code t} is under way: leader (promoting) or follower (demoting) role values. */
  public static Map<String, String> during(Transition t, KubernetesSettings k) {
    Map<String, String> out = new LinkedHashMap<>(k.labels());
    boolean leader = t == Transition.PROMOTING;
    out.put(k.roleLabel(), leader ? k.leaderValue() : k.followerValue());
    if (k.tmpRoleLabel() != null) {
      out.put(k.tmpRoleLabel(), leader ? "primary" : "replica");
    }
    return out;
  }

  /** The labels of a member that is stopping: the role labels removed. */
  public static Map<String, String> stopped(KubernetesSettings k) {
    Map<String, String> out = new LinkedHashMap<>(k.labels());
    out.put(k.roleLabel(), null);
    if (k.tmpRoleLabel() != null) {
      out.put(k.tmpRoleLabel(), null);
    }
    return out;
  }
}
