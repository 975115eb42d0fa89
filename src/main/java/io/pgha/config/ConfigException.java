package io.pgha.config;

/** A configuration that cannot be used; the message names the key and is shown to the operator as one line. */
public class ConfigException extends Exception {
  public ConfigException(String message) {
    super(message);
  }
}
