package io.pgha.archfixture.dirty;

import java.io.File;
import java.net.URI;

/** Fixture for ArchitectureTest: a "core" class that does I/O, which the purity rule must reject. */
public record ReadsFiles(String path) {
  public boolean exists() {
    return new File(path).exists();
  }

  public URI uri() {
    return URI.create("file://" + path);
  }
}
