package io.pgha.bench;

import io.pgha.dcs.ClusterSnapshot;
import io.pgha.launch.FreePorts;
import io.pgha.launch.LocalCluster;
import io.pgha.launch.MemberConfig;
import io.pgha.launch.RunAs;
import io.pgha.launch.ZooKeeperProcess;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The REST API's targets on this machine, three members on loopback with a standalone ZooKeeper:
 *
 * <ol>
 *   <li>{@code wrk -t2 -c16 -d10s --latency} on the leader's {@code GET /primary}: requests/s, p50, p99. When
 *       Patroni ({@code patroni} on PATH, with python3-kazoo) is installed, a Patroni cluster with the same config
 *       format runs on the same ZooKeeper at the same time and is measured the same way, right after.
 *   <li>{@code POST /switchover} to alternating members, N times (default 15): the request's wall time and the
 *       write-unavailability window, from the last write that committed on the old primary to the first one that
 *       committed on the new one. A writer per member tries an INSERT every 20 ms over a fresh connection. Each run
 *       also checks that every write the old primary acknowledged is on the new one, and that the old primary
 *       acknowledged none after the new one did that the new one lacks (one it has committed before the promotion:
 *       only its acknowledgement was late, as happens to a writer thread on a busy machine).
 * </ol>
 *
 * <p>Prints tables and writes CSV to {@code benchmarks/results/}. Every process it starts is stopped at the end, also
 * on Ctrl-C. Usage: {@code benchmarks/api.sh [--runs N] [--duration 10s] [--warmup 2s] [--no-reference]
 * [--reference-switchover] [--quick] [--keep] [--out DIR]}
 */
public final class ApiBenchmark {
  private static final Duration POLL = Duration.ofMillis(20);
  private static final Duration HEALTHY_MAX = Duration.ofSeconds(120);
  private static final Duration REQUEST_MAX = Duration.ofSeconds(60);
  private static final Duration NEW_PRIMARY_WRITE_MAX = Duration.ofSeconds(60);
  /** A writer's deadline for one attempt (connect and INSERT), plus a margin. */
  private static final Duration WRITE_TIMEOUT_MAX = Duration.ofMillis(1_100);
  private static final Duration AGENT_STOP_GRACE = Duration.ofSeconds(30);
  private static final MemberConfig.Timing TIMING = new MemberConfig.Timing(10, 2, 3);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  record Throughput(String agent, double requestsPerSecond, double p50Ms, double p99Ms, long requests,
      long non2xx, long socketErrors) {}

  record Switchover(String agent, int run, String from, String to, int status, String answer, double requestMs,
      double unavailableMs, String newPrimary, long newPrimaryFirstWriteNanos, int lostWrites,
      boolean oldPrimaryWroteAfter) {

    /** A run without a new primary to measure: refused, timed out, or no write afterwards. */
    static Switchover failed(String agent, int run, String from, String to, int status, String answer,
        double requestMs) {
      return new Switchover(agent, run, from, to, status, answer, requestMs, Double.NaN, "", 0, 0, false);
    }

    boolean measured() {
      return !Double.isNaN(unavailableMs);
    }
  }

  public static void main(String[] args) throws Exception {
    int runs = intArg(args, "--runs", 15);
    String duration = stringArg(args, "--duration", "10s");
    String warmup = stringArg(args, "--warmup", "2s");
    boolean wantReference = !List.of(args).contains("--no-reference");
    boolean referenceSwitchover = List.of(args).contains("--reference-switchover");
    boolean quick = List.of(args).contains("--quick");
    boolean keep = List.of(args).contains("--keep");
    Path out = Path.of(stringArg(args, "--out", "benchmarks/results"));
    Path jar = Path.of(stringArg(args, "--jar", "target/pgha.jar")).toAbsolutePath();
    Optional<Path> wrk = executable("wrk");
    Optional<String> reference = wantReference ? referenceAgent() : Optional.empty();
    String referenceLabel = reference.map(ApiBenchmark::versionOf).orElse("reference");
    if (wrk.isEmpty()) {
      System.out.println("wrk is not installed (Debian package wrk): skipping the /primary throughput part");
    }

    Path work = Files.createTempDirectory("pgha-bench-api",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    List<Throughput> throughputs = new ArrayList<>();
    List<Switchover> switchovers = new ArrayList<>();
    try (Processes processes = new Processes()) {
      LocalCluster[] clusters = processes.sideBySide(jar, work, "bench", TIMING, reference);
      LocalCluster pgha = clusters[0];
      LocalCluster patroni = clusters[1];
      String pghaLeader = awaitHealthy(pgha, "pgha");
      String patroniLeader = patroni == null ? null : awaitHealthy(patroni, "patroni");
      System.out.println("clusters ready: pgha leader " + pghaLeader
          + (patroni == null ? "" : ", patroni leader " + patroniLeader));

      if (wrk.isPresent()) {
        Path wrkDir = Files.createDirectories(work.resolve("wrk"));
        throughputs.add(primaryThroughput(wrk.get(), wrkDir, "pgha", pgha.member(pghaLeader), warmup, duration));
        if (patroni != null) {
          throughputs.add(primaryThroughput(wrk.get(), wrkDir, referenceLabel, patroni.member(patroniLeader),
              warmup, duration));
        }
        printThroughput(throughputs, duration);
      }
      if (patroni != null && !referenceSwitchover) {
        processes.stopReference(); // the switchover series runs on an otherwise idle machine
      }

      switchovers.addAll(switchoverSeries(pgha, "pgha", runs, quick));
      if (patroni != null && referenceSwitchover) {
        switchovers.addAll(switchoverSeries(patroni, referenceLabel, runs, quick));
      }
    } catch (RuntimeException e) {
      System.err.println("benchmark failed; logs kept in " + work);
      throw e;
    }
    report(throughputs, switchovers, out, duration);
    boolean trouble = switchovers.size() < runs
        || switchovers.stream().anyMatch(s -> !s.measured() || s.lostWrites() > 0 || s.oldPrimaryWroteAfter());
    if (trouble) {
      System.out.println("some switchovers went wrong: agent and PostgreSQL logs kept in " + work);
    } else if (keep) {
      System.out.println("agent and PostgreSQL logs kept in " + work);
    } else {
      LocalCluster.deleteRecursively(work);
    }
  }

  // ------------------------------------------------------------------------------------- /primary under wrk

  private static Throughput primaryThroughput(Path wrk, Path dir, String agent, MemberConfig leader, String warmup,
      String duration) throws IOException, InterruptedException {
    String url = leader.restBase() + "/primary";
    int status = getStatus(url);
    if (status != 200) {
      throw new IllegalStateException(agent + " leader " + leader.name() + " answers " + status + " on " + url);
    }
    if (!warmup.equals("0") && !warmup.equals("0s")) {
      runWrk(wrk, dir.resolve(agent + "-warmup.txt"), url, warmup);
    }
    String output = runWrk(wrk, dir.resolve(agent + ".txt"), url, duration);
    System.out.println("----- wrk on " + agent + " " + url + "\n" + output);
    return parseWrk(agent, output);
  }

  private static String runWrk(Path wrk, Path outputFile, String url, String duration)
      throws IOException, InterruptedException {
    Process process = new ProcessBuilder(wrk.toString(), "-t2", "-c16", "-d" + duration, "--latency", url)
        .redirectErrorStream(true)
        .redirectOutput(outputFile.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start();
    long limitSeconds = seconds(duration) + 30;
    if (!process.waitFor(limitSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
      throw new IllegalStateException("wrk did not finish within " + limitSeconds + " s");
    }
    String output = Files.readString(outputFile, StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IllegalStateException("wrk exited with " + process.exitValue() + ":\n" + output);
    }
    return output;
  }

  private static final Pattern PERCENTILE = Pattern.compile("^\\s*(50|99)(?:\\.0+)?%\\s+([0-9.]+)(us|ms|s|m)\\s*$",
      Pattern.MULTILINE);
  private static final Pattern RATE = Pattern.compile("^Requests/sec:\\s+([0-9.]+)", Pattern.MULTILINE);
  private static final Pattern TOTAL = Pattern.compile("^\\s*(\\d+) requests in", Pattern.MULTILINE);
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)");
  private static final Pattern SOCKET_ERRORS =
      Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

  /** wrk's summary with {@code --latency}: the 50% and 99% lines of the distribution, Requests/sec, errors. */
  static Throughput parseWrk(String agent, String output) {
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    Matcher m = PERCENTILE.matcher(output);
    while (m.find()) {
      double ms = toMillis(Double.parseDouble(m.group(2)), m.group(3));
      if (m.group(1).equals("50")) {
        p50 = ms;
      } else {
        p99 = ms;
      }
    }
    Matcher rate = RATE.matcher(output);
    Matcher total = TOTAL.matcher(output);
    if (Double.isNaN(p50) || Double.isNaN(p99) || !rate.find() || !total.find()) {
      throw new IllegalStateException("cannot parse wrk's output:\n" + output);
    }
    Matcher non2xx = NON_2XX.matcher(output);
    Matcher errors = SOCKET_ERRORS.matcher(output);
    long socketErrors = 0;
    if (errors.find()) {
      for (int g = 1; g <= 4; g++) {
        socketErrors += Long.parseLong(errors.group(g));
      }
    }
    return new Throughput(agent, Double.parseDouble(rate.group(1)), p50, p99, Long.parseLong(total.group(1)),
        non2xx.find() ? Long.parseLong(non2xx.group(1)) : 0, socketErrors);
  }

  private static double toMillis(double value, String unit) {
    return switch (unit) {
      case "us" -> value / 1000;
      case "ms" -> value;
      case "s" -> value * 1000;
      case "m" -> value * 60_000;
      default -> throw new IllegalArgumentException(unit);
    };
  }

  private static void printThroughput(List<Throughput> rows, String duration) {
    System.out.printf(Locale.ROOT, "%nGET /primary on the leader, wrk -t2 -c16 -d%s --latency%n", duration);
    System.out.printf(Locale.ROOT, "%-16s %12s %9s %9s %10s %8s %7s%n", "agent", "requests/s", "p50 ms", "p99 ms",
        "requests", "non-2xx", "errors");
    for (Throughput t : rows) {
      System.out.printf(Locale.ROOT, "%-16s %12.1f %9.3f %9.3f %10d %8d %7d%n", t.agent(), t.requestsPerSecond(),
          t.p50Ms(), t.p99Ms(), t.requests(), t.non2xx(), t.socketErrors());
    }
    if (rows.size() == 2) {
      Throughput ours = rows.get(0);
      Throughput ref = rows.get(1);
      System.out.printf(Locale.ROOT, "ratio %s / %s: %.1fx requests/s, p99 %.1fx lower (target: >= 20x, p99 <= 5 ms)%n",
          ours.agent(), ref.agent(), ours.requestsPerSecond() / ref.requestsPerSecond(), ref.p99Ms() / ours.p99Ms());
    }
  }

  // ----------------------------------------------------------------------------------- switchover series

  /**
   * {@code runs} switchovers over HTTP, each to the member after the current leader in name order (so the leader
   * goes round all three), with writers on every member running throughout. Each run starts once both replicas
   * stream from the leader (checked in PostgreSQL), or with {@code quick} as soon as ZooKeeper shows a running
   * primary and two running replicas. A run that goes wrong is recorded and the series goes on while the cluster
   * recovers; it stops when the cluster does not.
   */
  private static List<Switchover> switchoverSeries(LocalCluster cluster, String agent, int runs, boolean quick) {
    List<Switchover> samples = new ArrayList<>();
    try (Writers writers = new Writers(cluster.members())) {
      String first = awaitReady(cluster, writers, agent, false);
      writers.createTable(cluster.member(first));
      writers.start();
      List<String> names = cluster.members().stream().map(MemberConfig::name).toList();
      long lossCheckedFrom = System.nanoTime();
      for (int run = 1; run <= runs; run++) {
        String leader;
        try {
          leader = awaitReady(cluster, writers, agent, !quick);
        } catch (IllegalStateException e) {
          System.out.println(agent + ": series stopped before run " + run + ": " + e.getMessage());
          break;
        }
        String candidate = names.get((names.indexOf(leader) + 1) % names.size());
        Switchover sample = switchover(cluster, writers, agent, run, leader, candidate, lossCheckedFrom);
        lossCheckedFrom = sample.newPrimaryFirstWriteNanos() > 0 ? sample.newPrimaryFirstWriteNanos()
            : System.nanoTime();
        samples.add(sample);
        System.out.printf(Locale.ROOT, "%s switchover %2d: %s -> %s: %d %s, request %.0f ms, writes unavailable %.0f ms"
                + "%s%s%n", agent, run, leader, candidate, sample.status(), sample.answer(), sample.requestMs(),
            sample.unavailableMs(),
            sample.lostWrites() > 0 ? ", " + sample.lostWrites() + " ACKNOWLEDGED WRITES LOST" : "",
            sample.oldPrimaryWroteAfter() ? " (OLD PRIMARY WROTE AFTER THE NEW ONE)" : "");
      }
    }
    return samples;
  }

  private static Switchover switchover(LocalCluster cluster, Writers writers, String agent, int run, String leader,
      String candidate, long lossCheckedFrom) {
    // the old primary must have been writable just before: the window starts at its last write
    if (writers.awaitWrite(leader, System.nanoTime(), Duration.ofSeconds(10)).isEmpty()) {
      return Switchover.failed(agent, run, leader, candidate, -1, "leader accepts no writes before the request", 0);
    }
    long start = System.nanoTime();
    HttpResult answer = post(cluster.member(leader).restBase() + "/switchover",
        "{\"leader\": \"" + leader + "\", \"candidate\": \"" + candidate + "\"}");
    double requestMs = (System.nanoTime() - start) / 1e6;
    if (answer.status() != 200) {
      return Switchover.failed(agent, run, leader, candidate, answer.status(), answer.body(), requestMs);
    }
    Optional<Writers.Ack> first = writers.awaitFirstWriteExcept(leader, start, NEW_PRIMARY_WRITE_MAX);
    if (first.isEmpty()) {
      System.out.println(agent + " switchover " + run + ": no member but " + leader + " accepted a write "
          + NEW_PRIMARY_WRITE_MAX + " after the request; log tails:\n" + cluster.logTails(40));
      return Switchover.failed(agent, run, leader, candidate, answer.status(),
          "no write on a new primary within " + NEW_PRIMARY_WRITE_MAX.toSeconds() + " s", requestMs);
    }
    long firstNew = first.get().atNanos();
    long lastOld = writers.lastWrite(leader, firstNew).orElse(start);
    // writes still in flight on the old primary get their whole timeout to land before the checks
    sleep(WRITE_TIMEOUT_MAX);
    // a write the old primary acknowledged after the new primary's first one is a split brain unless the new primary
    // has it: then it committed before the promotion and only its acknowledgement reached a busy writer thread late
    MemberConfig newPrimary = cluster.member(first.get().member());
    boolean oldWroteAfter = writers.missingOn(newPrimary, writers.markers(leader, firstNew, Long.MAX_VALUE)) > 0;
    // every write acknowledged by the old primary must be on the new one
    List<Long> acknowledged = writers.markers(leader, lossCheckedFrom, firstNew);
    int lost = writers.missingOn(newPrimary, acknowledged);
    return new Switchover(agent, run, leader, candidate, answer.status(), answer.body(), requestMs,
        (firstNew - lastOld) / 1e6, first.get().member(), firstNew, lost, oldWroteAfter);
  }

  /**
   * Waits until the cluster has a leader with a running primary and every other member is a running replica whose
   * WAL receiver streams from it ({@code pg_stat_wal_receiver}) when {@code streaming}; returns the leader.
   */
  private static String awaitReady(LocalCluster cluster, Writers writers, String agent, boolean streaming) {
    long deadline = System.nanoTime() + HEALTHY_MAX.toNanos();
    String leader = null;
    while (System.nanoTime() < deadline) {
      Optional<ClusterSnapshot> view = cluster.await(LocalCluster.healthy(cluster.members().size() - 1),
          Duration.ofNanos(Math.max(0, deadline - System.nanoTime())), false);
      if (view.isEmpty()) {
        break;
      }
      leader = view.get().leader();
      int leaderPort = cluster.member(leader).postgresPort();
      String current = leader;
      if (!streaming || cluster.members().stream().filter(m -> !m.name().equals(current))
          .allMatch(m -> writers.streamsFrom(m, leaderPort))) {
        return leader;
      }
      sleep(Duration.ofMillis(200));
    }
    throw new IllegalStateException(agent + " cluster: no leader with every replica streaming from it after "
        + HEALTHY_MAX + " (last leader " + leader + "):\n" + cluster.logTails(30));
  }

  /**
   * One writer thread per member, each trying an INSERT with a unique marker every 20 ms over a fresh connection
   * (500 ms connect timeout, 1 s in all, as {@link Writer}), recording when each write was acknowledged.
   */
  static final class Writers implements AutoCloseable {
    record Ack(String member, long marker, long atNanos) {}

    private static final String TABLE = "bench_api_writes";

    private final Vertx vertx = Vertx.vertx();
    private final List<MemberConfig> members;
    private final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    private final AtomicLong markers = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    Writers(List<MemberConfig> members) {
      this.members = members;
    }

    void start() {
      for (MemberConfig member : members) {
        Thread thread = new Thread(() -> {
          while (running.get()) {
            long marker = markers.incrementAndGet();
            if (execute(member, "INSERT INTO " + TABLE + " (marker, member) VALUES (" + marker + ", '"
                + member.name() + "')", Duration.ofSeconds(1)).isPresent()) {
              acks.add(new Ack(member.name(), marker, System.nanoTime()));
            }
            try {
              Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
              return;
            }
          }
        }, "writer-" + member.name());
        thread.setDaemon(true);
        thread.start();
        threads.add(thread);
      }
    }

    void createTable(MemberConfig leader) {
      execute(leader, "CREATE TABLE IF NOT EXISTS " + TABLE
              + " (marker bigint PRIMARY KEY, member text NOT NULL, at timestamptz NOT NULL DEFAULT now())",
          Duration.ofSeconds(10))
          .orElseThrow(() -> new IllegalStateException("cannot create " + TABLE + " on " + leader.name()));
    }

    boolean streamsFrom(MemberConfig member, int leaderPort) {
      return execute(member, "SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming' AND sender_port = "
          + leaderPort, Duration.ofSeconds(2)).map(rows -> rows.size() == 1).orElse(false);
    }

    /** How many of {@code markers} are not in the table on {@code member}; all of them when it cannot be read. */
    int missingOn(MemberConfig member, List<Long> wanted) {
      if (wanted.isEmpty()) {
        return 0;
      }
      long min = Collections.min(wanted);
      long max = Collections.max(wanted);
      for (int attempt = 0; attempt < 5; attempt++) {
        Optional<RowSet<Row>> rows = execute(member, "SELECT marker FROM " + TABLE + " WHERE marker BETWEEN " + min
            + " AND " + max, Duration.ofSeconds(5));
        if (rows.isPresent()) {
          Set<Long> present = new HashSet<>();
          rows.get().forEach(row -> present.add(row.getLong(0)));
          return (int) wanted.stream().filter(m -> !present.contains(m)).count();
        }
        sleep(Duration.ofMillis(500));
      }
      System.out.println("cannot read " + TABLE + " on " + member.name() + " to check for lost writes");
      return wanted.size();
    }

    private Optional<RowSet<Row>> execute(MemberConfig member, String sql, Duration timeout) {
      PgConnectOptions options = new PgConnectOptions().setHost("127.0.0.1").setPort(member.postgresPort())
          .setDatabase("postgres").setUser(MemberConfig.SUPERUSER).setPassword(MemberConfig.SUPERUSER_PASSWORD);
      SqlClient client = PgBuilder.client().with(new NetClientOptions().setConnectTimeout(500))
          .connectingTo(options).using(vertx).build();
      try {
        return Optional.of(client.query(sql).execute().toCompletionStage().toCompletableFuture()
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      } catch (Exception e) {
        return Optional.empty();
      } finally {
        client.close();
      }
    }

    /** The last write acknowledged by {@code member} before {@code beforeNanos}. */
    OptionalLong lastWrite(String member, long beforeNanos) {
      return acks.stream().filter(a -> a.member().equals(member) && a.atNanos() < beforeNanos)
          .mapToLong(Ack::atNanos).max();
    }

    /** Markers of the writes {@code member} acknowledged in [{@code fromNanos}, {@code toNanos}). */
    List<Long> markers(String member, long fromNanos, long toNanos) {
      return acks.stream().filter(a -> a.member().equals(member) && a.atNanos() >= fromNanos
          && a.atNanos() < toNanos).map(Ack::marker).toList();
    }

    Optional<Long> awaitWrite(String member, long afterNanos, Duration timeout) {
      return await(a -> a.member().equals(member) && a.atNanos() >= afterNanos, timeout).map(Ack::atNanos);
    }

    Optional<Ack> awaitFirstWriteExcept(String member, long afterNanos, Duration timeout) {
      return await(a -> !a.member().equals(member) && a.atNanos() >= afterNanos, timeout);
    }

    private Optional<Ack> await(Predicate<Ack> match, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      Comparator<Ack> byTime = Comparator.comparingLong(Ack::atNanos);
      while (true) {
        if (acks.stream().anyMatch(match)) {
          // threads record slightly out of order: let one more round land before answering
          sleep(POLL.multipliedBy(2));
          return acks.stream().filter(match).min(byTime);
        }
        if (System.nanoTime() >= deadline) {
          return Optional.empty();
        }
        sleep(POLL);
      }
    }

    @Override
    public void close() {
      running.set(false);
      for (Thread thread : threads) {
        try {
          thread.join(5_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
          .exceptionally(e -> null).join();
    }
  }

  // ------------------------------------------------------------------------------------------------ report

  private static void report(List<Throughput> throughputs, List<Switchover> switchovers, Path out, String duration)
      throws IOException {
    Files.createDirectories(out);
    String stamp = Instant.now().toString().replace(':', '-');
    List<Path> files = new ArrayList<>();
    if (!throughputs.isEmpty()) {
      StringBuilder csv = new StringBuilder("agent,duration,requests_per_s,p50_ms,p99_ms,requests,non_2xx,"
          + "socket_errors\n");
      throughputs.forEach(t -> csv.append(String.format(Locale.ROOT, "%s,%s,%.1f,%.3f,%.3f,%d,%d,%d%n", t.agent(),
          duration, t.requestsPerSecond(), t.p50Ms(), t.p99Ms(), t.requests(), t.non2xx(), t.socketErrors())));
      Path file = out.resolve("api-primary-" + stamp + ".csv");
      Files.writeString(file, csv);
      files.add(file);
      printThroughput(throughputs, duration);
    }
    StringBuilder csv = new StringBuilder("agent,run,from,to,status,answer,request_ms,unavailable_ms,new_primary,"
        + "lost_writes,old_primary_wrote_after\n");
    switchovers.forEach(s -> csv.append(String.format(Locale.ROOT, "%s,%d,%s,%s,%d,\"%s\",%.1f,%.1f,%s,%d,%s%n",
        s.agent(), s.run(), s.from(), s.to(), s.status(), s.answer().replace("\"", "\"\""), s.requestMs(),
        s.unavailableMs(), s.newPrimary(), s.lostWrites(), s.oldPrimaryWroteAfter())));
    Path file = out.resolve("api-switchover-" + stamp + ".csv");
    Files.writeString(file, csv);
    files.add(file);

    System.out.printf(Locale.ROOT, "%nPOST /switchover to the next member: every run%n");
    System.out.printf(Locale.ROOT, "%-14s %4s %-5s %-5s %6s %11s %15s %6s %6s  %s%n", "agent", "run", "from", "to",
        "status", "request ms", "unavailable ms", "new", "lost", "old primary wrote after new");
    for (Switchover s : switchovers) {
      System.out.printf(Locale.ROOT, "%-14s %4d %-5s %-5s %6d %11.0f %15.0f %6s %6d  %s%s%n", s.agent(), s.run(),
          s.from(), s.to(), s.status(), s.requestMs(), s.unavailableMs(), s.newPrimary(), s.lostWrites(),
          s.oldPrimaryWroteAfter(), s.measured() ? "" : "  (" + s.answer() + ")");
    }
    System.out.printf(Locale.ROOT, "%nPOST /switchover summary (ms)%n%-14s %5s %6s %9s %9s %9s %9s %9s %9s %6s %6s%n",
        "agent", "runs", "failed", "unav min", "unav med", "unav max", "req min", "req med", "req max", "lost",
        "split");
    switchovers.stream().map(Switchover::agent).distinct().forEach(agent -> {
      List<Switchover> group = switchovers.stream().filter(s -> s.agent().equals(agent)).toList();
      List<Switchover> measured = group.stream().filter(Switchover::measured).toList();
      Stats unavailable = Stats.of(measured, Switchover::unavailableMs);
      Stats request = Stats.of(group, Switchover::requestMs);
      System.out.printf(Locale.ROOT, "%-14s %5d %6d %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %6d %6d%n", agent,
          group.size(), group.size() - measured.size(), unavailable.min(), unavailable.median(), unavailable.max(),
          request.min(), request.median(), request.max(), group.stream().mapToInt(Switchover::lostWrites).sum(),
          group.stream().filter(Switchover::oldPrimaryWroteAfter).count());
    });
    System.out.println("(unavailable: last write acknowledged by the old primary to the first by the new one; lost:"
        + " writes the old primary acknowledged that the new one does not have; split: runs where the old primary"
        + " acknowledged a write after the new one did, and the new one does not have it)");
    System.out.println("(target for pgha: writes unavailable <= 1000 ms median and <= 1500 ms in every run)");
    files.forEach(f -> System.out.println("raw samples: " + f.toAbsolutePath()));
  }

  record Stats(double min, double median, double max) {
    static <T> Stats of(List<T> rows, Function<T, Double> value) {
      List<Double> values = new ArrayList<>(rows.stream().map(value).filter(v -> !v.isNaN()).toList());
      if (values.isEmpty()) {
        return new Stats(Double.NaN, Double.NaN, Double.NaN);
      }
      Collections.sort(values);
      int n = values.size();
      double median = n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
      return new Stats(values.get(0), median, values.get(n - 1));
    }
  }

  // --------------------------------------------------------------------------------------------- processes

  /**
   * Everything the benchmark starts, stopped in order on close and from a shutdown hook (Ctrl-C): reference agents
   * (SIGTERM, then SIGKILL), then each cluster (its agents and any postmaster left behind), then ZooKeeper.
   */
  static final class Processes implements AutoCloseable {
    private final List<Process> reference = new ArrayList<>();
    private final List<LocalCluster> clusters = new ArrayList<>();
    private final List<ZooKeeperProcess> zookeepers = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread hook = new Thread(this::closeAll, "api-benchmark-cleanup");

    Processes() {
      Runtime.getRuntime().addShutdownHook(hook);
    }

    synchronized ZooKeeperProcess zookeeper(ZooKeeperProcess zk) {
      zookeepers.add(zk);
      return zk;
    }

    synchronized LocalCluster cluster(LocalCluster cluster) {
      clusters.add(cluster);
      return cluster;
    }

    /** Starts {@code command <config>} as the unprivileged user, output appended to the member's log. */
    synchronized void startReference(String command, MemberConfig member) throws IOException {
      List<String> argv = new ArrayList<>(List.of(command.trim().split("\\s+")));
      argv.add(member.configFile().toAbsolutePath().toString());
      ProcessBuilder builder = new ProcessBuilder(RunAs.wrap(argv))
          .directory(member.configFile().toAbsolutePath().getParent().toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(member.logFile().toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      builder.environment().putAll(RunAs.environment());
      if (!Files.exists(member.logFile())) {
        Files.createFile(member.logFile());
      }
      RunAs.unprivilegedUser().ifPresent(user -> RunAs.chownRecursive(member.logFile(), user));
      reference.add(builder.start());
    }

    /**
     * A standalone ZooKeeper under {@code work}, three pgha members ({@code pgha-<scope>}) started on it, and, with
     * a reference agent, three of its members ({@code patroni-<scope>}) beside them: {pgha, reference or null}.
     */
    LocalCluster[] sideBySide(Path jar, Path work, String scope, MemberConfig.Timing timing,
        Optional<String> reference) throws IOException {
      ZooKeeperProcess zk = zookeeper(
          ZooKeeperProcess.start(jar, FreePorts.next(), work.resolve("zk"), work.resolve("zk.log")));
      zk.waitServing(Duration.ofSeconds(30));
      LocalCluster pgha = cluster(
          LocalCluster.create(work.resolve("pgha"), jar, "pgha-" + scope, "pg", 3, zk.connectString(), timing));
      // the class-data archive bin/pgha makes on a first start (PGHA_CDS=off: without, as bin/pgha)
      if (!"off".equals(System.getenv("PGHA_CDS"))) pgha.makeClassArchive();
      pgha.startAll(Map.of());
      LocalCluster patroni = null;
      if (reference.isPresent()) {
        patroni = cluster(LocalCluster.create(work.resolve("patroni"), jar, "patroni-" + scope, "pt", 3,
            zk.connectString(), timing));
        for (MemberConfig member : patroni.members()) {
          startReference(reference.get(), member);
        }
      }
      return new LocalCluster[] {pgha, patroni};
    }

    synchronized List<Process> referenceProcesses() {
      return List.copyOf(reference);
    }

    /** SIGTERM to every reference agent (each stops its postgres), SIGKILL to those left after 30 s. */
    synchronized void stopReference() {
      reference.stream().filter(Process::isAlive).forEach(Process::destroy);
      long deadline = System.nanoTime() + AGENT_STOP_GRACE.toNanos();
      for (Process process : reference) {
        try {
          if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          process.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    }

    private void closeAll() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
      try {
        stopReference();
      } finally {
        for (LocalCluster cluster : clusters) {
          try {
            cluster.close();
          } catch (RuntimeException e) {
            System.err.println("cannot stop cluster in " + cluster.baseDir() + ": " + e);
          }
        }
        zookeepers.forEach(ZooKeeperProcess::close);
      }
    }

    @Override
    public void close() {
      closeAll();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down
      }
    }
  }

  // ----------------------------------------------------------------------------------------------- helpers

  /**
   * Patroni as installed (Debian's {@code patroni}), if its interpreter can import kazoo (its ZooKeeper client,
   * only one of the package's alternative dependencies). {@code PGHA_REFERENCE_CMD} overrides the command.
   */
  static Optional<String> referenceAgent() {
    String override = System.getenv("PGHA_REFERENCE_CMD");
    if (override != null && !override.isBlank()) {
      return Optional.of(override.trim());
    }
    Optional<Path> patroni = executable("patroni");
    if (patroni.isEmpty()) {
      System.out.println("patroni is not installed (Debian package patroni): measuring pgha alone");
      return Optional.empty();
    }
    try {
      String shebang = Files.readAllLines(patroni.get(), StandardCharsets.UTF_8).get(0);
      String python = shebang.startsWith("#!") ? shebang.substring(2).trim().split("\\s+")[0] : "python3";
      Process check = new ProcessBuilder(python, "-c", "import kazoo").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!check.waitFor(30, TimeUnit.SECONDS)) {
        check.destroyForcibly();
      } else if (check.exitValue() == 0) {
        return Optional.of(patroni.get().toString());
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    System.out.println("patroni cannot talk to ZooKeeper (install python3-kazoo): measuring pgha alone");
    return Optional.empty();
  }

  /** {@code <command> --version} (Patroni prints {@code patroni 3.0.2}), or the command's file name. */
  static String versionOf(String command) {
    String fallback = Path.of(command.trim().split("\\s+")[0]).getFileName().toString();
    try {
      List<String> argv = new ArrayList<>(List.of(command.trim().split("\\s+")));
      argv.add("--version");
      Process process = new ProcessBuilder(argv).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return fallback;
      }
      String version = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return process.exitValue() == 0 && !version.isEmpty() && !version.contains("\n") ? version : fallback;
    } catch (IOException e) {
      return fallback;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fallback;
    }
  }

  private static Optional<Path> executable(String name) {
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
    dirs.addAll(List.of("/usr/sbin", "/usr/local/sbin"));
    return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, name)).filter(Files::isExecutable)
        .findFirst();
  }

  /** Waits for a leader with a running primary and two running replicas; returns the leader's name. */
  static String awaitHealthy(LocalCluster cluster, String agent) {
    return cluster.await(LocalCluster.healthy(2), HEALTHY_MAX, false)
        .flatMap(ClusterSnapshot::leaderMember).map(ClusterSnapshot.Member::name)
        .orElseThrow(() -> new IllegalStateException(agent + " cluster not healthy after " + HEALTHY_MAX + ":\n"
            + cluster.logTails(30)));
  }

  record HttpResult(int status, String body) {}

  private static HttpResult post(String url, String json) {
    try {
      HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_MAX)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build();
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return new HttpResult(response.statusCode(), oneLine(response.body()));
    } catch (IOException e) {
      return new HttpResult(-1, oneLine(e.toString()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int getStatus(String url) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build();
    return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static String oneLine(String text) {
    String line = text.replaceAll("\\s+", " ").trim();
    return line.length() > 160 ? line.substring(0, 160) + "..." : line;
  }

  /** wrk's duration syntax: {@code 10s}, {@code 2m}, {@code 1h}, or plain seconds. */
  static long seconds(String duration) {
    Matcher m = Pattern.compile("(\\d+)([smh]?)").matcher(duration.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("bad duration " + duration);
    }
    long value = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "m" -> value * 60;
      case "h" -> value * 3600;
      default -> value;
    };
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static int intArg(String[] args, String name, int fallback) {
    return Optional.ofNullable(stringArg(args, name, null)).map(Integer::parseInt).orElse(fallback);
  }

  private static String stringArg(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
