#!/usr/bin/env bash
# The suite on SQLite and, with FILROUGE_TEST_PG_URL set, the same suite on PostgreSQL at the
# same time. The two runs share nothing (each has its own database, temporary files and ports),
# and on two cores, side by side, they take about as long as the longer one instead of the sum.
# Each run's output is kept apart and printed whole once it ends, so neither interleaves.
# Arguments go to pytest: `scripts/test_suites.sh tests/booking` runs one folder on both.
set -uo pipefail
bin=${BIN:-.venv/bin}
if [ -z "${FILROUGE_TEST_PG_URL:-}" ]; then
  exec "$bin/pytest" -q "$@"
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# No cache plugin: two runs writing .pytest_cache at once would race for nothing.
"$bin/pytest" -q -p no:cacheprovider "$@" >"$logs/sqlite" 2>&1 &
sqlite=$!
FILROUGE_TEST_DATABASE_URL="$FILROUGE_TEST_PG_URL" "$bin/pytest" -q -p no:cacheprovider "$@" >"$logs/pg" 2>&1 &
pg=$!

wait "$sqlite"
sqlite_status=$?
echo "--- suite on SQLite ---"
cat "$logs/sqlite"
wait "$pg"
pg_status=$?
echo "--- same suite on PostgreSQL ---"
cat "$logs/pg"
[ "$sqlite_status" -eq 0 ] && [ "$pg_status" -eq 0 ]
