package io.pgha.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LedgerTest {

  private static Ledger.Ack ack(String member, double at) {
    return new Ledger.Ack(member, at - 5, at, (long) at);
  }

  @Test
  void oldPrimaryAcknowledgingAfterTheNewPrimaryIsCountedEachTime() {
    List<Ledger.Ack> window = List.of(ack("a", 100), ack("a", 200), ack("b", 300), ack("a", 310), ack("b", 400),
        ack("a", 420));
    Ledger.SingleWriter result = Ledger.singleWriter(window, "a");
    assertThat(result.violations()).isEqualTo(2);
    assertThat(result.firstByNewPrimary()).hasValueSatisfying(a -> assertThat(a.ackMs()).isEqualTo(300));
    assertThat(result.takeovers()).hasSize(1);
  }

  @Test
  void aCleanHandOverHasNoViolations() {
    List<Ledger.Ack> window = List.of(ack("a", 100), ack("a", 200), ack("b", 300), ack("b", 400));
    assertThat(Ledger.singleWriter(window, "a").violations()).isZero();
  }

  @Test
  void noTakeoverWhenTheLeaderKeepsWriting() {
    List<Ledger.Ack> window = List.of(ack("a", 100), ack("a", 200));
    Ledger.SingleWriter result = Ledger.singleWriter(window, "a");
    assertThat(result.violations()).isZero();
    assertThat(result.firstByNewPrimary()).isEmpty();
  }

  @Test
  void aSecondTakeoverRetiresTheFirstNewPrimaryToo() {
    List<Ledger.Ack> window = List.of(ack("a", 100), ack("b", 200), ack("c", 300), ack("b", 310), ack("a", 320));
    Ledger.SingleWriter result = Ledger.singleWriter(window, "a");
    assertThat(result.violations()).isEqualTo(2);
    assertThat(result.takeovers()).hasSize(2);
  }

  @Test
  void windowSelectsByAckTime() {
    Ledger ledger = new Ledger();
    ledger.record(ack("a", 300));
    ledger.record(ack("a", 100));
    ledger.record(ack("b", 200));
    assertThat(ledger.between(150, 300)).extracting(Ledger.Ack::ackMs).containsExactly(200.0, 300.0);
  }
}
