package io.pgha.archfixture.cyclic.b;

import io.pgha.archfixture.cyclic.a.A;

/** Fixture for ArchitectureTest: the other half of a package cycle. */
public record B(String name) {
  public A wrap() {
    return new A(this);
  }
}
