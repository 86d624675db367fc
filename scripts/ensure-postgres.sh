#!/bin/sh
# Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres) for the cluster on this machine
# (dev/cluster.py) and the store tests on PostgreSQL. Idempotent: nothing to do when a server is
# installed. Only the binaries: the project starts its own server in a folder of its own
# (dev/postgres.py), never the system's cluster, so the package's own service is left stopped.
set -eu
if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    exit 0
fi
. "$(dirname "$0")/apt.sh"
apt_install --no-install-recommends postgresql
ls /usr/lib/postgresql/*/bin/postgres >/dev/null
