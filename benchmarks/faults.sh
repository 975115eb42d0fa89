#!/usr/bin/env bash
# Fault-injection suite (issue 9): a three-server ZooKeeper ensemble (tickTime 2000), three members with
# PostgreSQL 15 and a writer on each, faults injected from a healthy cluster at seeded moments; pgha, and Patroni
# 3.0.2 side by side where installed. Prints a table; raw CSV goes to benchmarks/results/. Runs as root (iptables
# for zk-partition; postgres and the agents run as the unprivileged `postgres` user).
#   benchmarks/faults.sh [--seed N] [--faults freeze-agent,kill-agent,...|all|none] [--sync off|on|both] [--runs N]
#                        [--patroni auto|off|only] [--healthy SECONDS] [--failsafe off|on] [--keep]
#   --failsafe on: failsafe_mode: true in bootstrap.dcs for both agents (Patroni 3.0.2 has it too)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
mvn -q -B -DskipTests package test-compile
cp="target/pgha.jar:target/test-classes"
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.log.io.vertx.sqlclient=error -cp "$cp" io.pgha.faults.FaultSuite --jar target/pgha.jar "$@"
