#!/usr/bin/env bash
# Soak at a short ttl under write load with both cores kept busy: three members on loopback, a write to the leader
# every 100 ms, a CPU hog (one busy loop per core, nice 15, so the agents keep their normal priority as on a
# loaded host) for the whole run. Prints leader changes, failed writes and fencing-guard fires; exits 1 if any
# leader change or guard fire happened. Bounded: the hog and the run both stop after --minutes.
#   benchmarks/soak.sh [--minutes N] [--ttl S] [--loop-wait S] [--retry-timeout S] [--no-hog]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
minutes=30
hog=1
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; args+=("$1" "$2"); shift 2 ;;
    --no-hog) hog=0; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$minutes" in ''|*[!0-9]*) echo "soak: --minutes needs a whole number, got '$minutes'" >&2; exit 2 ;; esac
mvn -q -B -DskipTests package test-compile
# run from a copy, so that rebuilding the tree during a long soak does not change the classes under it
snap=$(mktemp -d /tmp/pgha-soak-cp.XXXXXX)
cp target/pgha.jar "$snap/" && cp -r target/test-classes "$snap/"
hogs=()
if [ "$hog" = 1 ]; then
  for _ in $(seq "$(nproc)"); do
    # bounded: timeout ends each busy loop a minute after the soak's own end
    nice -n 15 timeout "$(( (minutes + 3) * 60 ))" sh -c 'while :; do :; done' &
    hogs+=($!)
  done
fi
trap 'kill "${hogs[@]}" 2>/dev/null || true; rm -rf "$snap"' EXIT
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$snap/pgha.jar:$snap/test-classes" \
  io.pgha.bench.SoakBenchmark --jar "$snap/pgha.jar" --minutes "$minutes" "${args[@]}"
