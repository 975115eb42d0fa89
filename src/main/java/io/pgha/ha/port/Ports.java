package io.pgha.ha.port;

import java.util.Objects;

/** Everything the driver talks to, handed over at once. */
public record Ports(Clock clock, Dcs dcs, Postgres postgres, Peers peers, Fence fence, Reporter reporter,
    Hooks hooks, ConfigFile configFile) {
  public Ports {
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(dcs, "dcs");
    Objects.requireNonNull(postgres, "postgres");
    Objects.requireNonNull(peers, "peers");
    Objects.requireNonNull(fence, "fence");
    Objects.requireNonNull(reporter, "reporter");
    Objects.requireNonNull(hooks, "hooks");
    Objects.requireNonNull(configFile, "configFile");
  }
}
