#!/bin/sh
# One-shot: create Temporal's two databases on PostgreSQL and bring each schema to the server
# release's versioned schema. Run as it is by docker-compose.yml's `temporal-schema` job (the
# admin-tools image) and by `claims cluster up` here (dev/cluster.py), with the same variables:
#   SQL_PLUGIN SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD    read by temporal-sql-tool itself
#   TEMPORAL_SQL_TOOL   the tool (default: temporal-sql-tool on PATH)
#   SCHEMA_DIR          the release's schema/ folder (default: the image's /etc/temporal/schema)
# Idempotent: a database that exists is kept, a schema already at the release's version is left.
set -eu
tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
schema=${SCHEMA_DIR:-/etc/temporal/schema}
for db in temporal temporal_visibility; do
    case $db in temporal) dir=temporal ;; *) dir=visibility ;; esac
    if ! out=$("$tool" --db "$db" create-database 2>&1); then
        case $out in *"already exists"*) ;; *) echo "$out" >&2; exit 1 ;; esac
    fi
    if ! out=$("$tool" --db "$db" setup-schema -v 0.0 2>&1); then
        case $out in *"already exists"*) ;; *) echo "$out" >&2; exit 1 ;; esac
    fi
    "$tool" --db "$db" update-schema -d "$schema/postgresql/v12/$dir/versioned"
    echo "schema: $db at the release's version"
done
