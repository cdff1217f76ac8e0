#!/usr/bin/env bash
# The PostgreSQL server the state-store tests run against: Debian's postgresql package, one cluster per checkout,
# listening on a unix socket in a temporary folder only (no TCP port), with a database `qbsf_test`.
#
#   tests/postgres/server.sh start URL_FILE   install when missing (apt-get, as root), start or reuse the cluster,
#                                             write its SQLAlchemy URL to URL_FILE
#   tests/postgres/server.sh stop             stop this checkout's cluster
#
# `make postgres` runs `start` (a prerequisite of `make test`), `make postgres-stop` runs `stop`. As root (CI) the
# server runs as the `postgres` user the package creates: PostgreSQL refuses to run as root.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
checkout=$(printf %s "$root" | md5sum | cut -c1-10)
dir=${QBSF_TEST_PG_DIR:-${TMPDIR:-/tmp}/qbsf-pg-$(id -u)-$checkout}
port=55432  # names the socket file only: the server listens on no TCP port
database=qbsf_test

bindir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; fi
}

as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_server() {
  if [ -n "$(bindir)" ]; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "postgres: installing Debian's postgresql package" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if [ -z "$(bindir)" ]; then
    echo "postgres: the PostgreSQL server is not installed: run 'apt-get install -y postgresql' as root," \
         "then 'make postgres'" >&2
    exit 1
  fi
}

start() {
  local url_file=$1 bin
  install_server
  bin=$(bindir)
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_server_user "$bin/initdb" -D "$dir/data" -U qbsf --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if ! as_server_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    # Tests need speed, not durability: no fsync. Small buffers: many checkouts may share the machine.
    local options="-k $dir -p $port -c listen_addresses= -c fsync=off -c synchronous_commit=off"
    options+=" -c full_page_writes=off -c shared_buffers=16MB -c max_connections=50"
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null \
      || { tail -n 20 "$dir/server.log" >&2; exit 1; }
  fi
  if [ -z "$("$bin/psql" -h "$dir" -p $port -U qbsf -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
    "$bin/createdb" -h "$dir" -p $port -U qbsf "$database"
  fi
  echo "postgresql+psycopg://qbsf@/$database?host=$dir&port=$port" >"$url_file"
  echo "postgres: test server running (socket in $dir)" >&2
}

stop() {
  local bin
  bin=$(bindir)
  if [ -n "$bin" ] && [ -f "$dir/data/PG_VERSION" ]; then
    as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start "${2:?give the file to write the URL to}" ;;
  stop) stop ;;
  *) echo "usage: $0 start URL_FILE | stop" >&2; exit 2 ;;
esac
