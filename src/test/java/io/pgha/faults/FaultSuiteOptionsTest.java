package io.pgha.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class FaultSuiteOptionsTest {

  @Test
  void defaultsRunEveryFaultInBothModesWithPatroni() {
    FaultSuite.Options options = FaultSuite.Options.parse(new String[] {"--seed", "42"});
    assertThat(options.seed()).isEqualTo(42);
    assertThat(options.faults()).containsExactly(Fault.values());
    assertThat(options.syncModes()).containsExactly(false, true);
    assertThat(options.patroni()).isTrue();
    assertThat(options.pgha()).isTrue();
    assertThat(options.runs()).isEqualTo(1);
    assertThat(options.healthySeconds()).isZero();
    assertThat(options.failsafe()).isFalse();
  }

  @Test
  void parsesEveryOption() {
    FaultSuite.Options options = FaultSuite.Options.parse(new String[] {"--faults", "freeze-agent,zk-freeze",
        "--sync", "on", "--runs", "3", "--patroni", "off", "--healthy", "600", "--keep", "--failsafe", "on"});
    assertThat(options.failsafe()).isTrue();
    assertThat(options.faults()).containsExactly(Fault.FREEZE_AGENT, Fault.ZK_FREEZE);
    assertThat(options.syncModes()).containsExactly(true);
    assertThat(options.runs()).isEqualTo(3);
    assertThat(options.patroni()).isFalse();
    assertThat(options.healthySeconds()).isEqualTo(600);
    assertThat(options.keep()).isTrue();
    assertThat(FaultSuite.Options.parse(new String[] {"--patroni", "only"}).pgha()).isFalse();
    assertThat(FaultSuite.Options.parse(new String[] {"--faults", "none", "--healthy", "600"}).faults()).isEmpty();
  }

  @Test
  void badInputIsOneClearLine() {
    assertThatThrownBy(() -> FaultSuite.Options.parse(new String[] {"--faults", "freeze-agnt"}))
        .hasMessageStartingWith("unknown fault 'freeze-agnt'; known: freeze-agent,kill-agent");
    assertThatThrownBy(() -> FaultSuite.Options.parse(new String[] {"--sync", "maybe"}))
        .hasMessage("--sync takes off, on or both, not maybe");
    assertThatThrownBy(() -> FaultSuite.Options.parse(new String[] {"--failsafe", "yes"}))
        .hasMessage("--failsafe takes off or on, not yes");
    assertThatThrownBy(() -> FaultSuite.Options.parse(new String[] {"--runs"}))
        .hasMessage("missing value for --runs");
  }

  @Test
  void failuresNameTheBrokenChecks() {
    Report.Result broken = new Report.Result("pgha", true, "freeze-agent", 1, 1, null, "pg0", "pg1", 11.0, 3, 2,
        Double.NaN, List.of("pg2"), 0, 1, 100, "pg0 diverged", true);
    assertThat(broken.failures()).hasSize(4).allSatisfy(f -> assertThat(f).matches("\\([abcd]\\) .*"));
    Report.Result fine = new Report.Result("pgha", false, "freeze-agent", 1, 1, null, "pg0", "pg1", 11.0, 0, 5,
        4.0, List.of(), 0, 1, 100, "healthy", true);
    assertThat(fine.failures()).as("commits lost with sync off are not a failure").isEmpty();
  }
}
