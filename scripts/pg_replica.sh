#!/usr/bin/env bash
# A streaming read replica of the local PostgreSQL cluster "main", as a second cluster on
# another port: what FILROUGE_READ_DATABASE_URL points at in production, here for the tests
# and for a developer. Run as root (Debian's pg_createcluster); safe to run again: a replica
# already streaming is left alone, anything else under that name is rebuilt from a new
# base backup.
#
#   scripts/pg_replica.sh            # cluster "replica" on 5433, from "main" on 5432
#   PG_REPLICA_PORT=5434 scripts/pg_replica.sh
#
# The replica connects to the primary through the Unix socket as the postgres user (Debian's
# pg_hba allows local replication by peer): no replication password to create or to keep.
# The primary is only read (pg_basebackup); it is neither restarted nor reconfigured.
set -euo pipefail

version=${PG_VERSION:-$(ls /usr/lib/postgresql | sort -n | tail -n 1)}
primary=${PG_PRIMARY_CLUSTER:-main}
name=${PG_REPLICA_CLUSTER:-replica}
port=${PG_REPLICA_PORT:-5433}
socket=/var/run/postgresql

as_postgres() { su postgres -c "$1"; }
primary_port=$(pg_conftool -s "$version" "$primary" show port)
on_replica() { as_postgres "psql -h $socket -p $port -qtAc \"$1\"" 2>/dev/null || true; }

streaming() {
  [ "$(on_replica "SELECT pg_is_in_recovery()")" = "t" ] &&
    [ "$(on_replica "SELECT status FROM pg_stat_wal_receiver")" = "streaming" ]
}

if pg_lsclusters -h | grep "^$version $name " >/dev/null; then
  pg_ctlcluster "$version" "$name" start >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do streaming && break; sleep 0.5; done
  if streaming; then
    echo "replica $version/$name on port $port: streaming from $primary"
    exit 0
  fi
  echo "replica $version/$name is not streaming: rebuilding it"
  pg_dropcluster --stop "$version" "$name"
fi

pg_createcluster "$version" "$name" -p "$port" >/dev/null
data=$(pg_conftool -s "$version" "$name" show data_directory)
rm -rf "${data:?}"/*
# -R writes standby.signal and primary_conninfo; -X stream copies the WAL written meanwhile.
as_postgres "pg_basebackup -h $socket -p $primary_port -D $data -R -X stream --checkpoint=fast"
# Long reports on the replica are not cancelled when the primary vacuums the rows they read.
pg_conftool "$version" "$name" set hot_standby_feedback on
pg_ctlcluster "$version" "$name" start
for _ in $(seq 1 30); do streaming && break; sleep 0.5; done
streaming || { echo "replica $version/$name does not stream" >&2; exit 1; }
echo "replica $version/$name on port $port: streaming from $primary"
