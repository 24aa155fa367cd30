#!/usr/bin/env bash
# The whole suite on SQLite, then on a throwaway PostgreSQL on loopback, then the deployment end to
# end (tests/e2e). Fails if any fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p test-artifacts

echo "== Test suite on SQLite"
CASEMGMT_TEST_DATABASE_URL= $BIN/pytest --ignore=tests/e2e "$@"
sqlite_rc=$?

echo "== Test suite on PostgreSQL"
out=$(bash tools/pg-throwaway.sh) || { echo "could not start PostgreSQL"; exit 1; }
PGDIR=$(echo "$out" | sed -n 's/^DIR=//p')
PGURL=$(echo "$out" | sed -n 's/^URL=//p')
trap 'bash tools/pg-throwaway.sh stop "$PGDIR"' EXIT
CASEMGMT_TEST_DATABASE_URL="$PGURL" $BIN/pytest --ignore=tests/e2e "$@"
pg_rc=$?
bash tools/pg-throwaway.sh stop "$PGDIR"
trap - EXIT

# The deployment of deploy/ (nginx, two gunicorn servers, PostgreSQL, Redis, two huey workers),
# once: it starts and stops its own services.
echo "== End to end: nginx, two app servers, PostgreSQL, Redis, two workers"
CASEMGMT_TEST_DATABASE_URL= $BIN/pytest tests/e2e
e2e_rc=$?

echo "== SQLite: exit $sqlite_rc; PostgreSQL: exit $pg_rc; end to end: exit $e2e_rc"
[ $sqlite_rc -eq 0 ] && [ $pg_rc -eq 0 ] && [ $e2e_rc -eq 0 ]
