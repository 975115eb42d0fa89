package io.pgha.ha.port;

/** The answer to an operation the REST API asked for (restart, reinitialize, reload): an HTTP status and text. */
public record OperationReply(int status, String message) {}
