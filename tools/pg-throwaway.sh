#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on loopback; print its URL. Stop it with: pg-throwaway.sh stop DIR
# PostgreSQL refuses to run as root, so as root the cluster belongs to the 'postgres' user.
set -euo pipefail

find_bin() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)
[ -n "$INITDB" ] && [ -n "$PG_CTL" ] || { echo "initdb/pg_ctl not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "${1:-}" = "stop" ]; then
  as_owner "$PG_CTL" -D "$2/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$2"
  exit 0
fi

DIR=$(mktemp -d /tmp/casemgmt-pg.XXXXXX)
chmod 755 "$DIR"
[ "$(id -u)" -eq 0 ] && { id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres; chown postgres "$DIR"; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_owner "$INITDB" -D "$DIR/data" -U casemgmt --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
as_owner "$PG_CTL" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
for db in casemgmt_test; do
  psql -h 127.0.0.1 -p "$PORT" -U casemgmt -d postgres -qc "CREATE DATABASE $db" >/dev/null
done
echo "DIR=$DIR"
echo "URL=postgresql://casemgmt@127.0.0.1:$PORT/casemgmt_test"
