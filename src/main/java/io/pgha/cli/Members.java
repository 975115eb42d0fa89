package io.pgha.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.pgha.api.Schedules;
import io.pgha.dcs.ClusterSnapshot;
import io.pgha.dcs.ClusterSnapshot.Member;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How patronictl picks the members a command acts on ({@code get_all_members}, {@code get_members},
 * {@code confirm_members_action}, §7.1) and reads a schedule ({@code parse_scheduled}).
 */
final class Members {
  /** patronictl's {@code --role} choices. */
  static final List<String> ROLES = List.of("leader", "primary", "standby-leader", "replica", "standby", "any",
      "master");

  private Members() {}

  /** The {@code -r/--role} value, checked as click checks a choice, or {@code fallback} when not given. */
  static String role(CtlArgs parsed, String fallback) throws CtlException {
    String value = parsed.value("role");
    if (value == null) {
      return fallback;
    }
    if (!ROLES.contains(value)) {
      throw CtlException.usage("Invalid value for '--role' / '-r': '" + value + "' is not one of "
          + String.join(", ", ROLES.stream().map(r -> "'" + r + "'").toList()) + ".");
    }
    return value;
  }

  /** The leader key holder as a member: its member key, or an empty placeholder when it has none. */
  static Member leader(ClusterSnapshot cluster) {
    if (cluster.leader() == null) {
      return null;
    }
    return cluster.leaderMember().orElse(new Member(cluster.leader(), JsonNodeFactory.instance.objectNode()));
  }

  /**
   * The members having {@code role}: {@code leader} the key holder; {@code primary}/{@code master} the holder unless
   * it reports {@code standby_leader}; {@code standby-leader} the holder unless it reports {@code primary}/
   * {@code master}; {@code replica}/{@code standby} the others; {@code any} everyone.
   */
  static List<Member> withRole(ClusterSnapshot cluster, String role) {
    Member leader = leader(cluster);
    List<Member> found = new ArrayList<>();
    switch (role) {
      case "leader", "primary", "master", "standby-leader" -> {
        if (leader != null) {
          String reported = leader.role();
          boolean primary = reported.equals("primary") || reported.equals("master");
          if (role.equals("leader") || role.equals("standby-leader") && !primary
              || !role.equals("standby-leader") && !reported.equals("standby_leader")) {
            found.add(leader);
          }
        }
      }
      default -> {
        for (Member m : cluster.members()) {
          if (role.equals("any") || !m.name().equals(cluster.leader())) {
            found.add(m);
          }
        }
      }
    }
    return found;
  }

  /** The first member with {@code role} (and named {@code name}, when given), or null. */
  static Member any(ClusterSnapshot cluster, String role, String name) {
    return withRole(cluster, role).stream().filter(m -> name == null || m.name().equals(name)).findFirst()
        .orElse(null);
  }

  /** Members with an {@code api_url}, the leader first (patronictl's {@code get_all_members_leader_first}). */
  static List<Member> leaderFirst(ClusterSnapshot cluster) {
    List<Member> ordered = new ArrayList<>();
    Member leader = leader(cluster);
    String leaderName = leader != null && leader.apiUrl() != null ? leader.name() : null;
    if (leaderName != null) {
      ordered.add(leader);
    }
    for (Member m : cluster.members()) {
      if (m.apiUrl() != null && !m.name().equals(leaderName)) {
        ordered.add(m);
      }
    }
    return ordered;
  }

  /**
   * patronictl's {@code get_members}: shows the table, narrows the members of {@code role} to the names given (all
   * when none; reinitialize asks for one), and confirms unless {@code force}. Names that are no member of the cluster
   * at all are refused (patronictl drops them silently).
   */
  static List<Member> select(CtlContext ctx, ClusterSnapshot cluster, String clusterName, List<String> names,
      String role, boolean force, String action, boolean confirm) throws CtlException {
    List<Member> members = withRole(cluster, role);
    Set<String> candidates = new LinkedHashSet<>();
    members.forEach(m -> candidates.add(m.name()));
    for (String name : names) {
      if (cluster.member(name).isEmpty() && !name.equals(cluster.leader())) {
        throw new CtlException(name + " is not a member of cluster");
      }
    }
    if (names.isEmpty() && candidates.isEmpty()) {
      throw new CtlException(clusterName + " cluster doesn't have any members");
    }
    ctx.printMembers(cluster, clusterName, false, ClusterTable.Format.PRETTY);
    List<String> chosen = new ArrayList<>();
    if (!names.isEmpty()) {
      names.stream().filter(candidates::contains).distinct().forEach(chosen::add);
      if (chosen.isEmpty()) {
        throw new CtlException("No " + role + " among provided members");
      }
    } else if (!action.equals("reinitialize")) {
      chosen.addAll(candidates);
    }
    if (chosen.isEmpty() && !force) {
      chosen.add(ctx.prompts.prompt("Which member do you want to " + action + " ["
          + String.join(", ", candidates) + "]?", ""));
    }
    for (String name : chosen) {
      if (!candidates.contains(name)) {
        throw new CtlException(name + " is not a member of cluster");
      }
    }
    List<Member> selected = members.stream().filter(m -> chosen.contains(m.name())).toList();
    if (confirm) {
      confirm(ctx, selected, force, action, null);
    }
    return selected;
  }

  /** patronictl's {@code confirm_members_action}. */
  static void confirm(CtlContext ctx, List<Member> members, boolean force, String action, OffsetDateTime at)
      throws CtlException {
    if (force) {
      return;
    }
    String names = String.join(", ", members.stream().map(Member::name).toList());
    if (at != null) {
      if (!ctx.prompts.confirm("Are you sure you want to schedule " + action + " of members " + names + " at "
          + pythonStr(at) + "?")) {
        throw new CtlException("Aborted scheduled " + action);
      }
    } else if (!ctx.prompts.confirm("Are you sure you want to " + action + " members " + names + "?")) {
      throw new CtlException("Aborted " + action);
    }
  }

  /** The example in the schedule prompts: an hour from now, {@code %Y-%m-%dT%H:%M}. */
  static String nextHour(CtlContext ctx) {
    return LocalDateTime.now(ctx.clock).plusHours(1).format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm"));
  }

  /**
   * patronictl's {@code parse_scheduled}: null for {@code now} (or nothing), else the timestamp, in the local zone
   * when it names none.
   */
  static OffsetDateTime scheduled(CtlContext ctx, String text) throws CtlException {
    if (text == null || text.equals("now")) {
      return null;
    }
    try {
      return Schedules.parseTimestamp(text, ctx.clock.getZone());
    } catch (DateTimeException e) {
      throw new CtlException("Unable to parse scheduled timestamp (" + text
          + "). It should be in an unambiguous format (e.g. ISO 8601)");
    }
  }

  /** Python's {@code str(datetime)}: {@code 2024-05-03 12:00:00+02:00}. */
  static String pythonStr(OffsetDateTime at) {
    return Schedules.isoformat(at).replaceFirst("T", " ");
  }
}
