package io.pgha.archfixture.clean;

import java.util.List;

/** Fixture for ArchitectureTest: a record that the purity rule accepts: records and java.util only. */
public record PureRecord(String name, List<Long> lsns) {
  public PureRecord {
    lsns = List.copyOf(lsns);
  }
}
