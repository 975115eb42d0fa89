#!/usr/bin/env bash
# deploy/compose/stop-timing.sh [stop|kill]: `docker stop` (or kill) of the compose cluster's leader, with a write loop
# through HAProxy's 5000, then the time line of the hand-over from the containers' own logs (ms after the stop
# was issued). Needs the compose cluster of compose.yaml up and healthy, psql and curl on the host. Bounded: the
# write loop gives up after 40 s. The stopped member stays down (start it again with `docker start <name>`).
set -euo pipefail
how=${1:-stop}
case "$how" in stop|kill) ;; *) echo "usage: $0 [stop|kill]" >&2; exit 2;; esac
declare -A REST=([pgha1]=8008 [pgha2]=8009 [pgha3]=8010) PG=([pgha1]=5432 [pgha2]=5433 [pgha3]=5434)
leader=
for m in pgha1 pgha2 pgha3; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "127.0.0.1:${REST[$m]}/primary")" = 200 ] && leader=$m
done
[ -n "$leader" ] || { echo "stop-timing.sh: no member answers 200 on /primary" >&2; exit 1; }
tmp=$(mktemp -d /tmp/pgha-stop-timing.XXXXXX)
PGPASSWORD=postgres psql -X -q -c "CREATE TABLE IF NOT EXISTS stop_timing (at timestamptz DEFAULT now(), port int)" \
  "host=127.0.0.1 port=5000 user=postgres dbname=postgres connect_timeout=2"
now_ms() { date +%s%3N; }
t0=$(now_ms)
echo "docker $how $leader at $(date -u -d @"${t0:0:10}" +%T).${t0:10} UTC (load average $(cut -d' ' -f1-3 /proc/loadavg))"
( docker "$how" "$leader" > /dev/null; echo "$(now_ms)" > "$tmp/stopped" ) &
# one psql per 50 ms, each its own connection through 5000, until one writes on another member (at most 40 s)
deadline=$(( t0 + 40000 )); i=0
while [ ! -s "$tmp/first" ] && [ "$(now_ms)" -lt "$deadline" ]; do
  i=$((i + 1))
  ( out=$(PGPASSWORD=postgres psql -X -q -At -v ON_ERROR_STOP=1 \
      -c "INSERT INTO stop_timing (port) VALUES (inet_server_port()) RETURNING port" \
      "host=127.0.0.1 port=5000 user=postgres dbname=postgres connect_timeout=2" 2>&1) || true
    end=$(now_ms)
    if [ "$out" -eq "$out" ] 2> /dev/null && [ "$out" != "${PG[$leader]}" ]; then echo "$end $out" >> "$tmp/first"; fi ) &
  sleep 0.05
done
wait
set +e  # the report below is best effort
first=$(sort -n "$tmp/first" 2> /dev/null | head -1 | cut -d' ' -f1)
since() { echo $(( $1 - t0 )); }
iso_ms() { date -d "$1" +%s%3N 2> /dev/null || echo 0; }   # docker logs -t time stamp -> epoch ms
row() { printf '%7s ms  %s\n' "$1" "$2"; }
{
  docker logs -t "$leader" 2>&1 | sed "s/^/$leader /"
  for m in pgha1 pgha2 pgha3; do [ "$m" = "$leader" ] || docker logs -t --since "${t0:0:10}" "$m" 2>&1 | sed "s/^/$m /"; done
  docker logs -t --since "${t0:0:10}" pgha-haproxy 2>&1 | grep -v '^\S* \[' | sed 's/^/haproxy /'
  # postgres's own log (time stamps to the ms, UTC): the old leader's shutdown, the new one's promote
  for m in pgha1 pgha2 pgha3; do
    docker cp "$m:/var/lib/postgresql/data/pgdata.log" - 2> /dev/null | tar -xO 2> /dev/null \
      | awk -v m="$m" '$1 ~ /^20/ { print m "-postgres " $1 "T" $2 "Z " substr($0, index($0, $4)) }'
  done
} > "$tmp/logs"
{
  grep -E 'received SIGTERM|action=Shutdown|before_stop|leader key released|pgha stopped|ha.decision.*action=(Promote|ProbePeers|AcquireLeader|Follow)|accepts writes|primary/pgha. is (UP|DOWN)|fast shutdown request|checkpoint (starting|complete): shutdown|database system is shut down|received promotion request|selected new timeline|database system is ready to accept connections' \
    "$tmp/logs" | while read -r who ts rest; do
      ms=$(iso_ms "$ts"); [ "$ms" -ge "$t0" ] && row "$(since "$ms")" "$who: ${rest:0:140}"
    done
  [ -s "$tmp/stopped" ] && row "$(since "$(cat "$tmp/stopped")")" "docker $how returned"
  if [ -n "$first" ]; then row "$(since "$first")" "first write through 5000 on the new primary (port $(sort -n "$tmp/first" | head -1 | cut -d' ' -f2))"; fi
} | sort -n
[ -n "$first" ] || echo "no write through 5000 on another member within 40 s"
echo "($i psql attempts; logs in $tmp/logs)"
