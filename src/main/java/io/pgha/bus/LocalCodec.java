package io.pgha.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import java.util.Objects;

/**
 * Event-bus codec for immutable messages that never leave this Vert.x instance: {@link #transform} hands the same
 * object to the consumer, and the wire methods refuse, because the HA bus is local only.
 *
 * @param <T> the message type, an immutable record
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {
  private final String name;

  public LocalCodec(Class<T> type) {
    this.name = "local:" + Objects.requireNonNull(type, "type").getName();
  }

  @Override
  public void encodeToWire(Buffer buffer, T message) {
    throw new UnsupportedOperationException(name + " is a local codec: the message cannot cross the wire");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(name + " is a local codec: the message cannot cross the wire");
  }

  @Override
  public T transform(T message) {
    return message;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
