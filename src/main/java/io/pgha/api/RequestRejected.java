package io.pgha.api;

/**
 * A request answered with an error status and a one-line message (bad body, conflict, DCS trouble). Expected, so it
 * carries no stack trace.
 */
final class RequestRejected extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;

  RequestRejected(int status, String message) {
    super(oneLine(message), null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }

  static String oneLine(String message) {
    return message == null ? "" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }
}
