package io.pgha.zk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/**
 * A real standalone ZooKeeper server inside this JVM, on 127.0.0.1, with {@link ZooKeeperServerSettings}: what the
 * demo runs, and what tests use when a separate process is not needed.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {

  /** A fresh server on an empty data dir starts in well under a second; a slow CI box gets some slack. */
  private static final long START_TIMEOUT_MS = 30_000;

  private final ZooKeeperServerEmbedded server;
  private final int port;
  private final Path dataDir;

  private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, int port, Path dataDir) {
    this.server = server;
    this.port = port;
    this.dataDir = dataDir;
  }

  /** Starts a standalone server and returns once it serves clients. */
  public static EmbeddedZooKeeper start(int port, Path dataDir) {
    return start(port, dataDir, Map.of(), ExitHandler.LOG_ONLY);
  }

  /**
   * Starts a server (standalone, or ensemble member {@code myid} of {@code servers} when that is non-empty) and
   * returns once it serves clients. {@code exitHandler} EXIT lets a fatal server error end the JVM, which is right
   * only when the JVM exists to run this server.
   */
  static EmbeddedZooKeeper start(int port, Path dataDir, Map<Integer, String> servers, ExitHandler exitHandler) {
    return start(ZooKeeperServerSettings.properties(port, dataDir, servers), exitHandler);
  }

  /** Starts a server from complete zoo.cfg properties ({@code clientPort} and {@code dataDir} required). */
  static EmbeddedZooKeeper start(Properties properties, ExitHandler exitHandler) {
    Path absoluteDataDir = Path.of(properties.getProperty("dataDir")).toAbsolutePath();
    // a TLS-only server has no clientPort: it is known by its secure one
    int port = Integer.parseInt(properties.getProperty("clientPort",
        properties.getProperty("secureClientPort", "0")).trim());
    try {
      Files.createDirectories(absoluteDataDir);
      ZooKeeperServerEmbedded server = ZooKeeperServerEmbedded.builder()
          .baseDir(absoluteDataDir)
          .configuration(properties)
          .exitHandler(exitHandler)
          .build();
      server.start(START_TIMEOUT_MS);
      return new EmbeddedZooKeeper(server, port, absoluteDataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start ZooKeeper in " + absoluteDataDir, e);
    } catch (Exception e) {
      throw new IllegalStateException("ZooKeeper did not start on 127.0.0.1:" + port + ": " + e.getMessage(), e);
    }
  }

  /** {@code 127.0.0.1:<port>}, for {@code zookeeper.hosts} and Curator. */
  public String connectString() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  @Override
  public void close() {
    server.close();
  }
}
