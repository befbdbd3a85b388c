#!/usr/bin/env bash
# Builds the Temporal server and temporal-sql-tool from their Go module into .tools/, with the
# module's PostgreSQL schema (once: a present build is reused). Prints the directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${TEMPORAL_SERVER_VERSION:-v1.32.2}"
dest="$root/.tools/temporal-server-$version"
if [ -x "$dest/temporal-server" ] && [ -x "$dest/temporal-sql-tool" ] && [ -d "$dest/schema" ]; then echo "$dest"; exit 0; fi
[ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "Go is needed to build the Temporal server (go.temporal.io/server@$version): install Go (apt-get install golang-go, or https://go.dev/dl) and retry" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# v1.32 needs Go >= 1.26.10: the toolchain is fetched from the Go module proxy when older.
echo "building go.temporal.io/server@$version (a few minutes when Go's caches are cold)" >&2
GOTOOLCHAIN="${TEMPORAL_GOTOOLCHAIN:-go1.27.3}" GOBIN="$tmp" go install \
  "go.temporal.io/server/cmd/server@$version" "go.temporal.io/server/cmd/tools/sql@$version" >&2
mkdir -p "$dest"
# The versioned schema comes with the module: kept beside the binaries, it outlives the Go caches.
rm -rf "$dest/schema"
cp -r "$(go env GOMODCACHE)/go.temporal.io/server@$version/schema/postgresql/v12" "$dest/schema"
chmod -R u+w "$dest/schema"
mv "$tmp/server" "$dest/temporal-server"
mv "$tmp/sql" "$dest/temporal-sql-tool"
echo "$dest"
