#!/usr/bin/env bash
# Builds the Temporal Web UI server (github.com/temporalio/ui-server, the UI's assets embedded) into
# .tools/ (once: a present build is reused). Prints the directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# 2.54.1 is the UI the Temporal CLI's dev server embeds; its dependencies are all on the Go proxy.
version="${TEMPORAL_UI_VERSION:-v2.54.1}"
dest="$root/.tools/temporal-ui-server-$version"
if [ -x "$dest/temporal-ui-server" ]; then echo "$dest"; exit 0; fi
[ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "Go is needed to build the Temporal Web UI (github.com/temporalio/ui-server/v2@$version): install Go (apt-get install golang-go, or https://go.dev/dl) and retry" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "building github.com/temporalio/ui-server/v2@$version (under a minute when the server's build warmed Go's caches)" >&2
GOTOOLCHAIN="${TEMPORAL_GOTOOLCHAIN:-go1.27.3}" GOBIN="$tmp" go install \
  "github.com/temporalio/ui-server/v2/cmd/server@$version" >&2
mkdir -p "$dest"
mv "$tmp/server" "$dest/temporal-ui-server"
echo "$dest"
