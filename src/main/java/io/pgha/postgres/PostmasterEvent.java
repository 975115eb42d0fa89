package io.pgha.postgres;

/**
 * The postmaster started, was adopted, or exited.
 *
 * @param expected the exit followed a stop request (otherwise it is a crash)
 */
public record PostmasterEvent(long pid, boolean alive, boolean expected, int exitCode) {}
