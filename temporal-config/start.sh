#!/usr/bin/env bash
# Starts the Temporal server (all four services in one process) on server.yaml, rendered from the
# environment (see its header). TEMPORAL_SERVER_BIN overrides the build in .tools/.
set -euo pipefail
# A password mounted as a file (a container secret) wins over the variable.
if [ -n "${TEMPORAL_DB_PASSWORD_FILE:-}" ]; then TEMPORAL_DB_PASSWORD="$(cat "$TEMPORAL_DB_PASSWORD_FILE")"; export TEMPORAL_DB_PASSWORD; fi
here="$(cd "$(dirname "$0")" && pwd)"
bin="${TEMPORAL_SERVER_BIN:-$("$here/build.sh")/temporal-server}"
export TEMPORAL_DYNAMIC_CONFIG="${TEMPORAL_DYNAMIC_CONFIG:-$here/dynamic-config.yaml}"
exec "$bin" --config-file "${TEMPORAL_SERVER_CONFIG:-$here/server.yaml}" --allow-no-auth start
