#!/usr/bin/env bash
# HEALTHCHECK: an agent container is healthy while GET /liveness answers 200 (its HA loop runs; Patroni's meaning);
# a `pgha zookeeper` container while the server answers ruok with imok. PGHA_HEALTHCHECK_URL overrides the URL
# (https with your own certificates, another path).
read -r mode where < /tmp/pgha.mode || exit 1
case "$mode" in
  agent)
    url=${PGHA_HEALTHCHECK_URL:-http://127.0.0.1:${where##*:}/liveness}
    exec curl -fsS -k -o /dev/null --max-time 2 "$url" ;;
  zookeeper)
    exec 3<>"/dev/tcp/127.0.0.1/$where" || exit 1
    printf ruok >&3
    IFS= read -r -t 2 -n 4 answer <&3 || true
    [ "$answer" = imok ] ;;
  *) exit 0 ;;
esac
