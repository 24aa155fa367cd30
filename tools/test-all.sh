#!/usr/bin/env bash
# The whole suite on SQLite and, at the same time, on a throwaway PostgreSQL on loopback, then the
# deployment end to end (tests/e2e). Fails if any fails. The two databases' runs go side by side
# (each mostly waits on its own database); their output is printed whole, one after the other.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p test-artifacts
LOGS=$(mktemp -d)

out=$(bash tools/pg-throwaway.sh) || { echo "could not start PostgreSQL"; exit 1; }
PGDIR=$(echo "$out" | sed -n 's/^DIR=//p')
PGURL=$(echo "$out" | sed -n 's/^URL=//p')
trap 'bash tools/pg-throwaway.sh stop "$PGDIR"; rm -rf "$LOGS"' EXIT

echo "== Test suite on SQLite and on PostgreSQL, side by side"
start=$SECONDS
CASEMGMT_TEST_DATABASE_URL= $BIN/pytest --ignore=tests/e2e -p no:cacheprovider "$@" >"$LOGS/sqlite" 2>&1 &
sqlite_pid=$!
CASEMGMT_TEST_DATABASE_URL="$PGURL" $BIN/pytest --ignore=tests/e2e -p no:cacheprovider "$@" >"$LOGS/pg" 2>&1 &
pg_pid=$!
wait $sqlite_pid; sqlite_rc=$?
wait $pg_pid; pg_rc=$?
echo "== On SQLite"; cat "$LOGS/sqlite"
echo "== On PostgreSQL"; cat "$LOGS/pg"
echo "== Both in $((SECONDS - start)) s"
bash tools/pg-throwaway.sh stop "$PGDIR"
trap 'rm -rf "$LOGS"' EXIT

# The deployment of deploy/ (nginx, two gunicorn servers, PostgreSQL, Redis, two huey workers),
# once: it starts and stops its own services.
echo "== End to end: nginx, two app servers, PostgreSQL, Redis, two workers"
CASEMGMT_TEST_DATABASE_URL= $BIN/pytest tests/e2e
e2e_rc=$?

echo "== SQLite: exit $sqlite_rc; PostgreSQL: exit $pg_rc; end to end: exit $e2e_rc"
[ $sqlite_rc -eq 0 ] && [ $pg_rc -eq 0 ] && [ $e2e_rc -eq 0 ]
