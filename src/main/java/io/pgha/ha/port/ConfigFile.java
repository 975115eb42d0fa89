package io.pgha.ha.port;

import io.pgha.config.PghaConfig;
import java.util.concurrent.CompletionStage;

/** This member's configuration file, read again for {@code POST /reload} and SIGHUP. */
public interface ConfigFile {
  CompletionStage<PghaConfig> read();
}
