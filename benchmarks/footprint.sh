#!/usr/bin/env bash
# Idle cost per agent, pgha and Patroni 3.0.2 side by side in one run on one ZooKeeper (three members each, ttl 10,
# loop_wait 2): resident memory of each agent's whole process tree (fencing guard included, PostgreSQL left out) and
# CPU seconds in the idle window, with the ratios. Patroni is measured when installed (Debian patroni, python3-kazoo).
#   benchmarks/footprint.sh [--idle SECONDS] [--settle SECONDS] [--no-reference]
#   --settle: seconds between healthy and the window (default 10; 300 measures warmed-up agents). Extra agent JVM
#   flags: PGHA_JAVA_OPTS; agents map the class-data archive bin/pgha makes, PGHA_CDS=off: without it. Also prints
#   PSS and, per agent, the CPU by thread kind.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mvn -q -B -DskipTests package test-compile
snap=$(mktemp -d /tmp/pgha-footprint-cp.XXXXXX)
trap 'rm -rf "$snap"' EXIT
cp target/pgha.jar "$snap/" && cp -r target/test-classes "$snap/"
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$snap/pgha.jar:$snap/test-classes" \
  io.pgha.bench.FootprintBenchmark --jar "$snap/pgha.jar" "$@"
