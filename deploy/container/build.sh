#!/usr/bin/env bash
# deploy/container/build.sh [--base-only]
# Builds pgha:<version> and pgha:latest from deploy/container/Dockerfile. When the base image (BASE_IMAGE, default
# debian:bookworm-slim) is neither present nor pullable, it is made from Debian's packages: mmdebstrap (or, without
# it, debootstrap) --variant=minbase (mirror: DEBIAN_MIRROR, else the machine's own apt sources, else
# deb.debian.org) and `docker import`. Builds use host networking (the engine may run with --bridge=none).
# The Java runtime: when this host has a JDK 17 with jlink and jmods, and the base is Debian bookworm (as the build
# host), a minimal runtime of the modules pgha needs is jlink'ed here (cached in target/, keyed by the JDK's version)
# and copied in; otherwise (or JAVA_RUNTIME=apt) the image installs Debian's openjdk-17-jre-headless.
# Environment: BASE_IMAGE, PG_MAJOR (15), PGHA_JAR (default target/pgha.jar, built with mvn when missing), NO_PULL=1,
# JAVA_RUNTIME (jlink or apt; default jlink when possible).
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$here/../.." && pwd)
BASE_IMAGE=${BASE_IMAGE:-debian:bookworm-slim}
PG_MAJOR=${PG_MAJOR:-15}
version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$repo/pom.xml" | head -1)
log() { echo "build.sh: $*" >&2; }

# the security archive of the machine's apt sources (DEBIAN_SECURITY_MIRROR), else security.debian.org's
debian_security_mirror() {
  if [ -n "${DEBIAN_SECURITY_MIRROR:-}" ]; then echo "$DEBIAN_SECURITY_MIRROR"; return; fi
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -oE '(https?://[^ ]*/debian-security)/?( |$)' | head -1 | tr -d ' ' || true)
  echo "${m:-http://deb.debian.org/debian-security}"
}

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
  local mirror security dir start
  mirror=$(debian_mirror)
  security=$(debian_security_mirror)
  # as the official images: the release, its updates and its security archive
  local sources="deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main"
  start=$(date +%s)
  if command -v mmdebstrap > /dev/null; then
    # apt downloads with pipelining (debootstrap fetches one package at a time); no docs, man pages or locales, and
    # no apt lists or cached packages in the result, as the official -slim images
    log "making $BASE_IMAGE: mmdebstrap --variant=minbase $suite from $mirror"
    mmdebstrap --quiet --variant=minbase --format=tar \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
      "$suite" - "$sources" | docker import -c 'CMD ["bash"]' - "$BASE_IMAGE" > /dev/null
    log "made $BASE_IMAGE in $(( $(date +%s) - start )) s"
    return
  fi
  command -v debootstrap > /dev/null || { log "neither mmdebstrap nor debootstrap (apt-get install mmdebstrap)"; exit 1; }
  dir=$(mktemp -d /var/tmp/pgha-base.XXXXXX)
  trap 'rm -rf "$dir"' RETURN
  log "making $BASE_IMAGE: debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$dir/root" "$mirror" > "$dir/debootstrap.log" 2>&1 \
    || { tail -20 "$dir/debootstrap.log" >&2; exit 1; }
  echo "$sources" > "$dir/root/etc/apt/sources.list"
  # slim it as the official -slim images do: no apt lists, no docs, no man pages
  rm -rf "$dir"/root/var/lib/apt/lists/* "$dir"/root/var/cache/apt/*.bin "$dir"/root/var/cache/apt/archives/*.deb \
         "$dir"/root/usr/share/doc/* "$dir"/root/usr/share/man/* "$dir"/root/usr/share/info/*
  tar -C "$dir/root" -c . | docker import -c 'CMD ["bash"]' - "$BASE_IMAGE" > /dev/null
  log "made $BASE_IMAGE in $(( $(date +%s) - start )) s"
}

# Modules pgha needs: `jdeps --ignore-missing-deps --print-module-deps --multi-release 17 target/pgha.jar`, plus
# jdk.crypto.ec (TLS with EC keys, for the REST API and ZooKeeper) and jdk.zipfs. Rerun jdeps when dependencies change.
JLINK_MODULES=java.base,java.compiler,java.desktop,java.naming,java.net.http,java.security.jgss,java.security.sasl,java.sql,jdk.jfr,jdk.management,jdk.unsupported,jdk.crypto.ec,jdk.zipfs

# Makes $1/jre: a jlink'ed runtime (cached in target/), or leaves $1/jre empty when it cannot (then apt's JRE is used)
java_runtime() {
  local ctx=$1 java_home cache
  mkdir -p "$ctx/jre"
  if [ "${JAVA_RUNTIME:-jlink}" = apt ]; then log "Java runtime: Debian's openjdk-17-jre-headless (JAVA_RUNTIME=apt)"; return; fi
  case "$BASE_IMAGE" in
    debian:bookworm*) ;;
    *) log "Java runtime: Debian's openjdk-17-jre-headless (base $BASE_IMAGE: a runtime made here may not fit it)"; return ;;
  esac
  java_home=$(dirname "$(dirname "$(readlink -f "$(command -v jlink 2> /dev/null || echo /nonexistent)")")")
  if [ ! -x "$java_home/bin/jlink" ] || [ ! -f "$java_home/jmods/java.base.jmod" ] \
     || ! "$java_home/bin/java" -version 2>&1 | grep -q 'version "17\.' || ! grep -qs 'bookworm' /etc/os-release; then
    log "Java runtime: Debian's openjdk-17-jre-headless (no JDK 17 with jlink and jmods on a bookworm host here)"
    return
  fi
  cache="$repo/target/jre-$( ("$java_home/bin/java" -version 2>&1; echo "$JLINK_MODULES") | sha256sum | cut -c1-12)"
  if [ ! -x "$cache/bin/java" ]; then
    local start; start=$(date +%s)
    rm -rf "$cache.tmp"
    "$java_home/bin/jlink" --add-modules "$JLINK_MODULES" --strip-debug --no-man-pages --no-header-files \
      --output "$cache.tmp" >&2
    mv "$cache.tmp" "$cache"
    log "jlink'ed a Java runtime in $(( $(date +%s) - start )) s: $cache"
  fi
  cp -a "$cache/." "$ctx/jre/"
  log "Java runtime: jlink'ed from $java_home ($(du -sm "$cache" | cut -f1) MB)"
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
java_runtime "$ctx"
start=$(date +%s)
docker build --network host --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg PG_MAJOR="$PG_MAJOR" \
  -t "pgha:$version" -t pgha:latest "$ctx" >&2
log "built pgha:$version and pgha:latest in $(( $(date +%s) - start )) s, $(docker image inspect -f '{{.Size}}' pgha:latest | awk '{printf "%.0f MB", $1/1e6}')"
