#!/usr/bin/env bash
# Agent-core targets on this machine: bootstrap, leader SIGKILL (ttl 10 and a long ttl), leader SIGTERM,
# postmaster SIGKILL; three members on loopback with a standalone ZooKeeper. Prints a table; raw CSV goes to
# benchmarks/results/. Runs as root (postgres is started as the unprivileged `postgres` user) or as that user.
#   benchmarks/failover.sh [--runs N] [--ttl-long SECONDS]
# Or node SIGKILLs only, on a three-server ensemble at a stock tick, pgha and then Patroni 3.0.2 (when installed) on
# the same ensemble with the same ttl/loop_wait/retry_timeout, each run printed with its kill -> key gone -> key taken
# -> first write split:
#   benchmarks/failover.sh --zk-tick 2000 --ttls 10,30 --runs 10 [--patroni auto|off|only] [--keep]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mvn -q -B -DskipTests package test-compile
cp="target/pgha.jar:target/test-classes"
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" io.pgha.bench.FailoverBenchmark --jar target/pgha.jar "$@"
