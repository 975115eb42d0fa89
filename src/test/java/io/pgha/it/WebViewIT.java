package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
 * a switchover clicked on it must move the leader row within 2 s, a refused switchover must show the refusal text,
 * pause and resume must show and clear the paused marker, and after a SIGKILL of the serving member's agent (the
 * fencing guard then stops its postgres) the page must switch to another member, say so, and show the failover: a
 * new leader row, the new history entry and the new leader's {@code leader_lock} event.
 */
@Tag("integration")
class WebViewIT {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final String NO_FAILOVER = "m2";

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  WebDriver driver;

  @AfterEach
  void quit() {
    if (driver != null) {
      driver.quit();
    }
  }

  @Test
  void showsTheClusterSwitchesOverAndFollowsAFailover() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "chromium or chromedriver is not installed (Debian packages chromium, chromium-driver): skipping the web view"
            + " check");
    TestCluster cluster = clusters.start("webview", 3, (name, yaml) -> {
      if (name.equals(NO_FAILOVER)) {
        yaml.putObject("tags").put("nofailover", true);
      }
    });
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90));
    String serving = cluster.memberNames().stream()
        .filter(n -> !n.equals(leader) && !n.equals(NO_FAILOVER)).findFirst().orElseThrow();

    driver = browser(cluster.baseDir().resolve("chromium"));
    driver.get(cluster.member(serving).restBase() + "/ui/");
    await("three member rows, " + leader + " leading", Duration.ofSeconds(10),
        () -> rows().size() == 3 && leader.equals(leaderRow()));
    assertThat(text("#members tr[data-member='" + NO_FAILOVER + "'] td.tags")).contains("nofailover: true");
    assertThat(text("#source")).contains(serving);
    await("the event stream open", Duration.ofSeconds(10), () -> text("#events-state").contains("live"));

    // a switchover to the serving member, clicked on the page
    click("#members tr[data-member='" + serving + "'] button[data-action='switchover']");
    long clicked = System.nanoTime();
    new WebDriverWait(driver, Duration.ofSeconds(2)).until(ExpectedConditions.alertIsPresent()).accept();
    long accepted = System.nanoTime();
    // when ZooKeeper shows the new leader (the agents' part) and when the page does (the page's part)
    long zkAt = 0;
    long pageAt = 0;
    long deadline = accepted + Duration.ofSeconds(20).toNanos();
    while ((zkAt == 0 || pageAt == 0) && System.nanoTime() < deadline) {
      if (zkAt == 0 && cluster.leader().filter(serving::equals).isPresent()) {
        zkAt = System.nanoTime();
      }
      if (pageAt == 0 && serving.equals(leaderRow())) {
        pageAt = System.nanoTime();
      }
      TestCluster.sleep(Duration.ofMillis(25));
    }
    assertThat(zkAt).as("the leader key moved to " + serving + " within 20 s").isPositive();
    assertThat(pageAt).as("the page's leader row moved to " + serving + " within 20 s").isPositive();
    long totalMs = (pageAt - accepted) / 1_000_000;
    long agentsMs = (zkAt - accepted) / 1_000_000;
    long pageMs = (pageAt - zkAt) / 1_000_000;
    System.out.println("WebViewIT: switchover clicked (" + (accepted - clicked) / 1_000_000 + " ms to the confirm"
        + " dialog); leader row moved to " + serving + " " + totalMs + " ms after the confirmation: the leader key"
        + " moved after " + agentsMs + " ms, the page showed it " + pageMs + " ms later");
    assertThat(pageMs).as("the page shows the new leader within 1 s of ZooKeeper").isLessThanOrEqualTo(1000);
    await("the switchover's answer", Duration.ofSeconds(10), () -> text("#result").contains("Successfully"));
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

  // ------------------------------------------------------------------------------------------------ the browser

  static WebDriver browser(Path profile) throws Exception {
    Files.createDirectories(profile);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // without these, Chromium keeps calling home (updates, sync, metrics) on a network that has no outside
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--no-default-browser-check", "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
        "--metrics-recording-only", "--window-size=1400,1000", "--user-data-dir=" + profile);
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
