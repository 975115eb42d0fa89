#!/usr/bin/env bash
# deploy/container/build.sh [--base-only]
# Builds pgha:<version> and pgha:latest from deploy/container/Dockerfile. When the base image (BASE_IMAGE, default
# debian:bookworm-slim) is neither present nor pullable, it is made from Debian's packages: debootstrap
# --variant=minbase into a temporary directory (mirror: DEBIAN_MIRROR, else the machine's own apt sources, else
# deb.debian.org) and `docker import`. Builds use host networking (the engine may run with --bridge=none).
# Environment: BASE_IMAGE, PG_MAJOR (15), PGHA_JAR (default target/pgha.jar, built with mvn when missing), NO_PULL=1.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$here/../.." && pwd)
BASE_IMAGE=${BASE_IMAGE:-debian:bookworm-slim}
PG_MAJOR=${PG_MAJOR:-15}
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$repo/pom.xml" | head -1)
log() { echo "build.sh: $*" >&2; }

debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -oE '(https?://[^ ]*/debian)/?( |$)' | grep -v -- '-security' | head -1 | tr -d ' ' || true)
  echo "${m:-http://deb.debian.org/debian}"
}

make_base_image() {
  if docker image inspect "$BASE_IMAGE" > /dev/null 2>&1; then
    log "base image $BASE_IMAGE present"
    return
  fi
  if [ "${NO_PULL:-0}" != 1 ] && timeout 60 docker pull "$BASE_IMAGE" > /dev/null 2>&1; then
    log "pulled $BASE_IMAGE"
    return
  fi
  command -v debootstrap > /dev/null || { log "debootstrap missing (apt-get install debootstrap)"; exit 1; }
  [ "$(id -u)" = 0 ] || { log "making the base image with debootstrap needs root"; exit 1; }
  local suite=${BASE_IMAGE#*:}; suite=${suite%-slim}
  local mirror dir start
  mirror=$(debian_mirror)
  dir=$(mktemp -d /var/tmp/pgha-base.XXXXXX)
  trap 'rm -rf "$dir"' RETURN
  start=$(date +%s)
  log "making $BASE_IMAGE: debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$dir/root" "$mirror" > "$dir/debootstrap.log" 2>&1 \
    || { tail -20 "$dir/debootstrap.log" >&2; exit 1; }
  # slim it as the official -slim images do: no apt lists, no docs, no man pages
  rm -rf "$dir"/root/var/lib/apt/lists/* "$dir"/root/var/cache/apt/*.bin "$dir"/root/var/cache/apt/archives/*.deb \
         "$dir"/root/usr/share/doc/* "$dir"/root/usr/share/man/* "$dir"/root/usr/share/info/*
  tar -C "$dir/root" -c . | docker import -c 'CMD ["bash"]' - "$BASE_IMAGE" > /dev/null
  log "made $BASE_IMAGE in $(( $(date +%s) - start )) s"
}

make_base_image
[ "${1:-}" = --base-only ] && exit 0

jar=${PGHA_JAR:-$repo/target/pgha.jar}
if [ ! -f "$jar" ]; then
  log "building $jar"
  (cd "$repo" && mvn -q -B -DskipTests package)
fi
ctx=$(mktemp -d /var/tmp/pgha-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$here/entrypoint.sh" "$here/healthcheck.sh" "$here/pgha.yml" "$repo/bin/pgha" \
   "$repo/bin/pgha-jar.sh" "$repo/bin/pghactl" "$ctx/"
cp "$jar" "$ctx/pgha.jar"
start=$(date +%s)
docker build --network host --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg PG_MAJOR="$PG_MAJOR" \
  -t "pgha:$version" -t pgha:latest "$ctx" >&2
log "built pgha:$version and pgha:latest in $(( $(date +%s) - start )) s, $(docker image inspect -f '{{.Size}}' pgha:latest | awk '{printf "%.0f MB", $1/1e6}')"
