#!/usr/bin/env bash
# Agent-core targets on this machine: bootstrap, leader SIGKILL (ttl 10 and a long ttl), leader SIGTERM,
# postmaster SIGKILL; three members on loopback with a standalone ZooKeeper. Prints a table; raw CSV goes to
# benchmarks/results/. Runs as root (postgres is started as the unprivileged `postgres` user) or as that user.
#   benchmarks/failover.sh [--runs N] [--ttl-long SECONDS]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mvn -q -B -DskipTests package test-compile
cp="target/pgha.jar:target/test-classes"
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" io.pgha.bench.FailoverBenchmark --jar target/pgha.jar "$@"
