#!/bin/sh
# Compose one-shot job (temporalio/admin-tools image): creates Temporal's two PostgreSQL databases and brings their
# schemas to the version this admin-tools release ships, before the server starts. The same steps as Temporal's own
# Compose samples (samples-server compose/scripts/setup-postgres.sh); every step is safe to run again on an existing
# volume: create leaves an existing database alone and update-schema applies only the versions not yet applied.
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS}" "${POSTGRES_USER:?set POSTGRES_USER}" "${SQL_PASSWORD:?set SQL_PASSWORD}"
port="${DB_PORT:-5432}"
schema_root=/etc/temporal/schema/postgresql/v12

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) versioned="$schema_root/temporal/versioned" ;;
    *) versioned="$schema_root/visibility/versioned" ;;
  esac
  echo "setup-schema: $db"
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" --db "$db" create
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" --db "$db" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" --db "$db" update-schema -d "$versioned"
done
echo "setup-schema: done"
