#!/usr/bin/env bash
# The whole suite on SQLite, then on a throwaway PostgreSQL on loopback. Fails if either fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p test-artifacts

echo "== Test suite on SQLite"
CASEMGMT_TEST_DATABASE_URL= $BIN/pytest "$@"
sqlite_rc=$?

echo "== Test suite on PostgreSQL"
out=$(bash tools/pg-throwaway.sh) || { echo "could not start PostgreSQL"; exit 1; }
PGDIR=$(echo "$out" | sed -n 's/^DIR=//p')
PGURL=$(echo "$out" | sed -n 's/^URL=//p')
trap 'bash tools/pg-throwaway.sh stop "$PGDIR"' EXIT
CASEMGMT_TEST_DATABASE_URL="$PGURL" $BIN/pytest "$@"
pg_rc=$?

echo "== SQLite: exit $sqlite_rc; PostgreSQL: exit $pg_rc"
[ $sqlite_rc -eq 0 ] && [ $pg_rc -eq 0 ]
