#!/usr/bin/env bash
# The deterministic simulation (issue 10), for long runs: N seeded schedules of faults against three members, each
# the real HaLoop + ActionExecutor + HaCore over simulated ZooKeeper, PostgreSQL, clocks and fencing guards
# (src/test/java/io/pgha/sim). Prints failing seeds with their trace; replay one with --seed.
#   benchmarks/sim.sh [--schedules N] [--first-seed S] [--seed N] [--guard-off] [--timeline-check-off] [--log]
# Examples: benchmarks/sim.sh --schedules 20000 --first-seed 100000     (a night's run)
#           benchmarks/sim.sh --seed 2 --guard-off                        (the frozen-agent split, trace printed)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
props=(-Dsurefire.failIfNoSpecifiedTests=false)
test='SimulationTest#schedules'
while [ $# -gt 0 ]; do
  case "$1" in
    --schedules) props+=("-Dsim.schedules=$2"); shift 2 ;;
    --first-seed) props+=("-Dsim.firstSeed=$2"); shift 2 ;;
    --seed) props+=("-Dsim.seed=$2"); test='SimulationTest#replay'; shift 2 ;;
    --guard-off) props+=(-Dsim.guardOff=true); shift ;;
    --timeline-check-off) props+=(-Dsim.timelineCheckOff=true); shift ;;
    --log) props+=(-Dsim.log=true); shift ;;
    *) echo "sim.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
exec mvn -B -q test -Dtest="$test" "${props[@]}"
