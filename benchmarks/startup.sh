#!/usr/bin/env bash
# Start-up: three empty members started together against a three-server ZooKeeper ensemble (tickTime 2000 unless
# --zk-tick): per agent, process start to its ZooKeeper session and to its first HA decision, and spawning the agents
# to one leader with two streaming replicas; then the same three members run by Patroni 3.0.2 on the same ensemble
# when installed (Debian patroni, python3-kazoo): start to kazoo's session and to its first HA cycle's log line. Every
# run printed.
#   benchmarks/startup.sh [--runs N] [--zk-tick MS] [--keep] [--no-cds] [--patroni auto|off|only]
#   (--no-cds: agents without bin/pgha's class-data archive)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mvn -q -B -DskipTests package test-compile
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "target/pgha.jar:target/test-classes" \
  io.pgha.bench.StartupBenchmark --jar target/pgha.jar "$@"
