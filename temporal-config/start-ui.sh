#!/usr/bin/env bash
# Starts the Temporal Web UI on ui-server.yaml, rendered from the environment (see its header).
# TEMPORAL_UI_BIN overrides the build in .tools/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${TEMPORAL_UI_BIN:-$("$here/build-ui.sh")/temporal-ui-server}"
# The UI server reads <config dir>/<env>.yaml (over base.yaml, which this directory has none of).
exec "$bin" --root "$here" --config . --env ui-server start
