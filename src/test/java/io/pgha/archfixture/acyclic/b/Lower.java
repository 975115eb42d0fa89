package io.pgha.archfixture.acyclic.b;

/** Fixture for ArchitectureTest: the bottom of an acyclic pair of packages. */
public record Lower(String name) {}
