package io.pgha.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The outcome of one fault on one cluster, the printed tables and the raw CSV. */
final class Report {

  static final double HEALTHY_TARGET_S = 30;

  /**
   * One fault's measurements. NaN times mean "did not happen" (no takeover; never healthy); {@code lost} -1 means
   * it could not be measured; {@code skipped} is non-null when the fault could not be injected here.
   */
  record Result(String agent, boolean sync, String fault, int run, long seed, String skipped, String oldLeader,
      String newLeader, double takeoverS, int splitWrites, long lostCommits, double healthyAfterS,
      List<String> exitedByThemselves, double guardFires, int leaderChanges, int acks, String unhealthyWhy,
      boolean leaderFault) {

    /** Checks (a)-(d) that failed, empty when all held (or the fault was skipped). */
    List<String> failures() {
      List<String> failures = new ArrayList<>();
      if (skipped != null) {
        return failures;
      }
      if (splitWrites > 0) {
        failures.add("(a) " + splitWrites + " writes acknowledged by an old primary after the new one's first");
      }
      if (sync && lostCommits != 0) {
        failures.add("(b) " + (lostCommits < 0 ? "acknowledged commits could not be checked on the final primary"
            : lostCommits + " acknowledged commits missing on the final primary"));
      }
      if (Double.isNaN(healthyAfterS)) {
        failures.add("(c) not healthy within " + (int) HEALTHY_TARGET_S + " s: " + unhealthyWhy);
      }
      if (!exitedByThemselves.isEmpty()) {
        failures.add("(d) agents exited by themselves: " + exitedByThemselves);
      }
      return failures;
    }

    String takeover() {
      return Double.isNaN(takeoverS) ? "-" : String.format(Locale.ROOT, "%.1f s", takeoverS);
    }

    String healthy() {
      return Double.isNaN(healthyAfterS) ? "never (30 s)" : String.format(Locale.ROOT, "%.1f s", healthyAfterS);
    }

    String lost() {
      return lostCommits < 0 ? "?" : Long.toString(lostCommits);
    }
  }

  static Result skipped(String agent, boolean sync, Fault fault, int run, long seed, String why) {
    return new Result(agent, sync, fault.label, run, seed, why, null, null, Double.NaN, 0, 0, Double.NaN, List.of(),
        0, 0, 0, null, fault.leaderFault);
  }

  static String table(List<Result> results, int ttl) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "targets: 0 split writes; 0 lost sync commits; healthy <= %d s; "
        + "takeover <= ttl + 2 = %d s (leader faults)%n%n", (int) HEALTHY_TARGET_S, ttl + 2));
    String format = "%-28s %-4s %-3s %-8s %11s %9s %13s %13s %7s %6s %8s %6s  %s%n";
    out.append(String.format(Locale.ROOT, format, "fault", "sync", "run", "agent", "split (0)", "lost (0)",
        "healthy(<=30)", "takeover(<=" + (ttl + 2) + ")", "exited", "guard", "leader+-", "acks", "verdict"));
    for (Result r : results) {
      if (r.skipped() != null) {
        out.append(String.format(Locale.ROOT, "%-28s %-4s %-3d %-8s skipped: %s%n", r.fault(), r.sync() ? "on" : "off",
            r.run(), r.agent(), r.skipped()));
        continue;
      }
      List<String> failures = r.failures();
      out.append(String.format(Locale.ROOT, format, r.fault(), r.sync() ? "on" : "off", r.run(), r.agent(),
          r.splitWrites(), r.sync() ? r.lost() : r.lost() + "*", r.healthy(), r.takeover(),
          r.exitedByThemselves().size(), fmt(r.guardFires()), r.leaderChanges(), r.acks(),
          failures.isEmpty() ? "ok" : "FAIL " + String.join("; ", failures.stream()
              .map(f -> f.substring(0, 3)).toList())));
    }
    out.append("* lost with sync off is shown for information: asynchronous replication may lose commits.\n");
    return out.toString();
  }

  /** One row per fault, sync mode and run; one column per agent: split writes / lost / healthy / takeover. */
  static String sideBySide(List<Result> results) {
    Map<String, Map<String, Result>> rows = new LinkedHashMap<>();
    List<String> agents = results.stream().map(Result::agent).distinct().toList();
    if (agents.size() < 2) {
      return "";
    }
    for (Result r : results) {
      rows.computeIfAbsent(r.fault() + "|" + (r.sync() ? "on" : "off") + "|" + r.run(), k -> new LinkedHashMap<>())
          .put(r.agent(), r);
    }
    StringBuilder out = new StringBuilder("side by side: split writes / lost commits / healthy after / takeover\n");
    out.append(String.format(Locale.ROOT, "%-28s %-4s %-3s", "fault", "sync", "run"));
    agents.forEach(a -> out.append(String.format(Locale.ROOT, " | %-36s", a)));
    out.append('\n');
    rows.forEach((key, byAgent) -> {
      String[] parts = key.split("\\|");
      out.append(String.format(Locale.ROOT, "%-28s %-4s %-3s", parts[0], parts[1], parts[2]));
      for (String agent : agents) {
        Result r = byAgent.get(agent);
        String cell = r == null ? "-" : r.skipped() != null ? "skipped"
            : r.splitWrites() + " / " + r.lost() + " / " + r.healthy() + " / " + r.takeover();
        out.append(String.format(Locale.ROOT, " | %-36s", cell));
      }
      out.append('\n');
    });
    return out.toString();
  }

  static Path writeCsv(List<Result> results, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve("faults-" + Instant.now().toString().replace(':', '-') + ".csv");
    StringBuilder csv = new StringBuilder("agent,sync,fault,run,seed,skipped,old_leader,new_leader,takeover_s,"
        + "split_writes,lost_commits,healthy_after_s,exited,guard_fires,leader_changes,acks,failures\n");
    for (Result r : results) {
      csv.append(String.join(",", r.agent(), Boolean.toString(r.sync()), r.fault(), Integer.toString(r.run()),
          Long.toString(r.seed()), quote(r.skipped()), Optional.ofNullable(r.oldLeader()).orElse(""),
          Optional.ofNullable(r.newLeader()).orElse(""), fmt(r.takeoverS()), Integer.toString(r.splitWrites()),
          Long.toString(r.lostCommits()), fmt(r.healthyAfterS()), quote(String.join(" ", r.exitedByThemselves())),
          fmt(r.guardFires()), Integer.toString(r.leaderChanges()), Integer.toString(r.acks()),
          quote(String.join("; ", r.failures())))).append('\n');
    }
    Files.writeString(file, csv);
    return file;
  }

  private static String fmt(double value) {
    return Double.isNaN(value) ? "" : String.format(Locale.ROOT, value == Math.rint(value) ? "%.0f" : "%.3f", value);
  }

  private static String quote(String text) {
    return text == null ? "" : "\"" + text.replace("\"", "'") + "\"";
  }
}
