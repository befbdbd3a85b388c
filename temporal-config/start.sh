#!/usr/bin/env bash
# Starts the Temporal server on server.yaml, rendered from the environment (see its header): all
# four services in one process, or those TEMPORAL_SERVICES lists (comma-separated: frontend,
# history, matching, worker), one node of a multi-node cluster. TEMPORAL_SERVER_BIN overrides the
# build in .tools/.
set -euo pipefail
# A password mounted as a file (a container secret) wins over the variable.
if [ -n "${TEMPORAL_DB_PASSWORD_FILE:-}" ]; then TEMPORAL_DB_PASSWORD="$(cat "$TEMPORAL_DB_PASSWORD_FILE")"; export TEMPORAL_DB_PASSWORD; fi
here="$(cd "$(dirname "$0")" && pwd)"
bin="${TEMPORAL_SERVER_BIN:-$("$here/build.sh")/temporal-server}"
export TEMPORAL_DYNAMIC_CONFIG="${TEMPORAL_DYNAMIC_CONFIG:-$here/dynamic-config.yaml}"
services=()
services_list="${TEMPORAL_SERVICES:-}"
for s in ${services_list//,/ }; do
  case "$s" in
    frontend | history | matching | worker) services+=(--service "$s") ;;
    *) echo "TEMPORAL_SERVICES: unknown service $s (frontend, history, matching, worker)" >&2; exit 1 ;;
  esac
done
exec "$bin" --config-file "${TEMPORAL_SERVER_CONFIG:-$here/server.yaml}" --allow-no-auth start ${services[@]+"${services[@]}"}
