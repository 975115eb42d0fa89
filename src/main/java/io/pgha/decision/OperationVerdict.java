package io.pgha.decision;

/**
 * The answer to an operation the REST API asked for: whether the HA loop carries it out, and the reply
 * ({@code {"status", "message"}} on the bus, the HTTP status and text for the client).
 */
public record OperationVerdict(boolean accepted, int httpStatus, String message, Reason reason) {

  static OperationVerdict accept(int status, Reason reason, Object... args) {
    return new OperationVerdict(true, status, reason.format(args), reason);
  }

  static OperationVerdict reject(int status, Reason reason, Object... args) {
    return new OperationVerdict(false, status, reason.format(args), reason);
  }
}
