#!/usr/bin/env bash
# Creates (if missing) and migrates Temporal's two PostgreSQL databases with temporal-sql-tool and
# the module's versioned schema. Idempotent: run it before every start and after every upgrade.
# Env: TEMPORAL_DB_HOST, TEMPORAL_DB_PORT, TEMPORAL_DB_USER, TEMPORAL_DB_PASSWORD, TEMPORAL_DB_NAME,
# TEMPORAL_VISIBILITY_DB_NAME; TEMPORAL_SQL_TOOL and TEMPORAL_SCHEMA_DIR (default: the build in
# .tools/ and the module's schema/postgresql/v12 kept beside it).
set -euo pipefail
# A password mounted as a file (a container secret) wins over the variable.
if [ -n "${TEMPORAL_DB_PASSWORD_FILE:-}" ]; then TEMPORAL_DB_PASSWORD="$(cat "$TEMPORAL_DB_PASSWORD_FILE")"; export TEMPORAL_DB_PASSWORD; fi
here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${TEMPORAL_SQL_TOOL:-}" ] || [ -z "${TEMPORAL_SCHEMA_DIR:-}" ]; then built="$("$here/build.sh")"; fi
tool="${TEMPORAL_SQL_TOOL:-$built/temporal-sql-tool}"
schema="${TEMPORAL_SCHEMA_DIR:-$built/schema}"
[ -d "$schema/temporal/versioned" ] || { echo "no schema at $schema" >&2; exit 1; }
export SQL_PASSWORD="${TEMPORAL_DB_PASSWORD:-temporal}"
sql() {
  "$tool" --plugin postgres12 --ep "${TEMPORAL_DB_HOST:-127.0.0.1}" -p "${TEMPORAL_DB_PORT:-5432}" \
    -u "${TEMPORAL_DB_USER:-temporal}" "$@"
}
for pair in "${TEMPORAL_DB_NAME:-temporal}:temporal" "${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}:visibility"; do
  db="${pair%%:*}" kind="${pair##*:}"
  # create-database fails when the database exists: that is the idempotent case.
  sql --db "$db" create-database >/dev/null 2>&1 || true
  # setup-schema -v 0.0 only creates the version table, and is refused once it exists.
  sql --db "$db" setup-schema -v 0.0 >/dev/null 2>&1 || true
  sql --db "$db" update-schema -d "$schema/$kind/versioned" >&2
done
echo "schemas of ${TEMPORAL_DB_NAME:-temporal} and ${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility} are current" >&2
