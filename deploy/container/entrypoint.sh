#!/usr/bin/env bash
# The container's command, started by tini (PID 1). `exec`s the JVM so that tini's SIGTERM reaches pgha itself:
#   agent [config]       (default) pgha with PGHA_CONFIG (default /etc/pgha: its *.yml merged) and PATRONI_* variables
#   zookeeper [options]  `pgha zookeeper` (ZOO_MY_ID and ZOO_SERVERS, as in the official zookeeper image, become
#                        --id and --servers; ZOO_PORT --port; data in /var/lib/zookeeper)
#   anything else        run as given (pghactl list, bash, ...)
set -euo pipefail
mode=${1:-agent}
[ $# -gt 0 ] && shift
case "$mode" in
  agent)
    config=${1:-$PGHA_CONFIG}
    # defaults a Patroni container image derives from its host name (Spilo does the same with the pod IP)
    host=$(hostname)
    addr=${PGHA_ADVERTISE_ADDRESS:-$(hostname -i 2>/dev/null | awk '{print $1}')}
    addr=${addr:-127.0.0.1}
    export PATRONI_NAME=${PATRONI_NAME:-$host}
    export PATRONI_RESTAPI_CONNECT_ADDRESS=${PATRONI_RESTAPI_CONNECT_ADDRESS:-$addr:${PATRONI_RESTAPI_LISTEN##*:}}
    export PATRONI_POSTGRESQL_CONNECT_ADDRESS=${PATRONI_POSTGRESQL_CONNECT_ADDRESS:-$addr:${PATRONI_POSTGRESQL_LISTEN##*:}}
    echo "agent ${PATRONI_RESTAPI_LISTEN}" > /tmp/pgha.mode
    mkdir -p "$(dirname "$PATRONI_POSTGRESQL_DATA_DIR")"
    exec /opt/pgha/bin/pgha "$config"
    ;;
  zookeeper)
    args=("$@")
    port=${ZOO_PORT:-2181}
    if [ -n "${ZOO_MY_ID:-}" ] && [ -n "${ZOO_SERVERS:-}" ]; then args=(--id "$ZOO_MY_ID" --servers "$ZOO_SERVERS" "${args[@]}"); fi
    echo "zookeeper $port" > /tmp/pgha.mode
    exec /opt/pgha/bin/pgha zookeeper --port "$port" --data "${ZOO_DATA_DIR:-/var/lib/zookeeper}" "${args[@]}"
    ;;
  *)
    echo "other" > /tmp/pgha.mode
    exec "$mode" "$@"
    ;;
esac
