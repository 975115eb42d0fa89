package io.pgha.archfixture.cyclic.a;

import io.pgha.archfixture.cyclic.b.B;

/** Fixture for ArchitectureTest: half of a package cycle. */
public record A(B other) {}
