package io.pgha.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads a request body the way Patroni's {@code _read_json_content} does (§5.1): by {@code Content-Length} (missing
 * ⇒ 411 when the body is required), as one JSON object (empty, invalid or not a non-empty object ⇒ 400); pgha also
 * refuses bodies over {@link #MAX_BYTES} with 413 without keeping them. Failures are {@link RequestRejected}.
 *
 * <p>A refused body is still read to its end (up to {@link #DRAIN_MAX_BYTES}, and discarded) before the refusal is
 * sent: a server that answers and closes while the client is still sending makes the kernel reset the connection,
 * and the client may lose the answer.
 */
final class JsonBody {
  static final int MAX_BYTES = 64 * 1024;
  static final int DRAIN_MAX_BYTES = 1024 * 1024;

  /** Like Python's json.loads: trailing text after the value is an error. */
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private JsonBody() {}

  /**
   * @param optional endpoints whose body is optional treat a missing or empty body as {@code {}}
   * @return the body's object; failed with {@link RequestRejected} when it cannot be used
   */
  static Future<ObjectNode> read(HttpServerRequest req, boolean optional) {
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length == null) {
      if (optional) {
        return Future.succeededFuture(JSON.createObjectNode());
      }
      return refuse(req, 411, "Length Required: send the JSON body with a Content-Length");
    }
    long declared;
    try {
      declared = Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return Future.failedFuture(new RequestRejected(400, "Bad Request: invalid Content-Length '" + length + "'"));
    }
    if (declared > MAX_BYTES) {
      String message = "Payload Too Large: the body has " + declared + " bytes, at most " + MAX_BYTES + " are accepted";
      return declared <= DRAIN_MAX_BYTES ? refuse(req, 413, message)
          : Future.failedFuture(new RequestRejected(413, message)); // Vert.x discards the rest as it comes

    }
    if (declared == 0 && optional) {
      return Future.succeededFuture(JSON.createObjectNode());
    }
    return req.body().compose(body -> {
      try {
        return Future.succeededFuture(parse(body, optional));
      } catch (RequestRejected e) {
        return Future.failedFuture(e);
      }
    });
  }

  /** Fails with the refusal once the body (if any, and not too long) has been read and discarded. */
  private static <T> Future<T> refuse(HttpServerRequest req, int status, String message) {
    RequestRejected refusal = new RequestRejected(status, message);
    if (req.isEnded()) {
      return Future.failedFuture(refusal);
    }
    Promise<T> done = Promise.promise();
    long[] seen = {0};
    req.handler(chunk -> {
      seen[0] += chunk.length();
      if (seen[0] > DRAIN_MAX_BYTES) {
        done.tryFail(refusal);
      }
    });
    req.endHandler(v -> done.tryFail(refusal));
    req.exceptionHandler(e -> done.tryFail(refusal));
    return done.future();
  }

  static ObjectNode parse(Buffer body, boolean optional) {
    if (body.length() > MAX_BYTES) {
      throw new RequestRejected(413, "Payload Too Large: at most " + MAX_BYTES + " bytes are accepted");
    }
    if (body.length() == 0) {
      throw new RequestRejected(400, "Bad Request: the body is empty, a JSON object is expected");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body.getBytes()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new RequestRejected(400, "Bad Request: the body is not valid UTF-8");
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : " at line " + at.getLineNr() + " column " + at.getColumnNr();
      throw new RequestRejected(400, "Bad Request: the body is not valid JSON" + where + ": " + e.getOriginalMessage());
    }
    if (node == null || node.isMissingNode()) {
      throw new RequestRejected(400, "Bad Request: the body is empty, a JSON object is expected");
    }
    if (!node.isObject()) {
      throw new RequestRejected(400, "Bad Request: the body must be a JSON object, got " + kind(node));
    }
    if (node.isEmpty() && !optional) {
      throw new RequestRejected(400, "Bad Request: the body is an empty JSON object");
    }
    return (ObjectNode) node;
  }

  private static String kind(JsonNode node) {
    if (node.isArray()) return "an array";
    if (node.isTextual()) return "a string";
    if (node.isNumber()) return "a number";
    if (node.isBoolean()) return "a boolean";
    if (node.isNull()) return "null";
    return node.getNodeType().name().toLowerCase();
  }
}
