package io.pgha.archfixture.acyclic.a;

import io.pgha.archfixture.acyclic.b.Lower;

/** Fixture for ArchitectureTest: depends on the package below, which does not depend back. */
public record Upper(Lower lower) {}
