# Sourced by bin/pgha and bin/pghactl: finds the checkout and (re)builds target/pgha.jar when it is missing or
# older than any file under src/ or pom.xml. Sets PGHA_HOME and PGHA_JAR.

PGHA_HOME=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
PGHA_JAR="$PGHA_HOME/target/pgha.jar"

pgha_jar_is_stale() {
  [ ! -f "$PGHA_JAR" ] && return 0
  [ -n "$(find "$PGHA_HOME/src" "$PGHA_HOME/pom.xml" -newer "$PGHA_JAR" -print -quit 2>/dev/null)" ]
}

pgha_ensure_jar() {
  pgha_jar_is_stale || return 0
  mkdir -p "$PGHA_HOME/target"
  # one build at a time when several commands start together; the second one finds the jar fresh
  exec 9>"$PGHA_HOME/target/.build.lock"
  flock 9
  if pgha_jar_is_stale; then
    echo "building $PGHA_JAR ..." >&2
    (cd "$PGHA_HOME" && mvn -q -B -DskipTests package) >&2 || { echo "build failed" >&2; exit 1; }
  fi
  flock -u 9
  exec 9>&-
}
