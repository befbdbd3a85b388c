#!/usr/bin/env bash
# Builds the Temporal server, temporal-sql-tool and tdbg (the server's admin CLI) from their Go
# module into .tools/, with the module's PostgreSQL schema (once: a present build is reused; a
# missing program alone is built). Prints the directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${TEMPORAL_SERVER_VERSION:-v1.32.2}"
dest="$root/.tools/temporal-server-$version"
wanted=""
[ -x "$dest/temporal-server" ] || wanted="$wanted server"
[ -x "$dest/temporal-sql-tool" ] || wanted="$wanted sql"
[ -x "$dest/tdbg" ] || wanted="$wanted tdbg"
if [ -z "$wanted" ] && [ -d "$dest/schema" ]; then echo "$dest"; exit 0; fi
[ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "Go is needed to build the Temporal server (go.temporal.io/server@$version): install Go (apt-get install golang-go, or https://go.dev/dl) and retry" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# v1.32 needs Go >= 1.26.10: the toolchain is fetched from the Go module proxy when older.
declare -A pkg=([server]=cmd/server [sql]=cmd/tools/sql [tdbg]=cmd/tools/tdbg)
declare -A name=([server]=temporal-server [sql]=temporal-sql-tool [tdbg]=tdbg)
pkgs=""
for w in ${wanted:-server}; do pkgs="$pkgs go.temporal.io/server/${pkg[$w]}@$version"; done
echo "building$pkgs (a few minutes when Go's caches are cold)" >&2
export GOTOOLCHAIN="${TEMPORAL_GOTOOLCHAIN:-go1.27.3}"
# shellcheck disable=SC2086
GOBIN="$tmp" go install $pkgs >&2
mkdir -p "$dest"
if [ ! -d "$dest/schema" ]; then
  # The versioned schema comes with the module: kept beside the binaries, it outlives the Go caches.
  cp -r "$(go env GOMODCACHE)/go.temporal.io/server@$version/schema/postgresql/v12" "$tmp/schema"
  chmod -R u+w "$tmp/schema"
  mv "$tmp/schema" "$dest/schema"
fi
for w in $wanted; do
  built="$tmp/$(basename "${pkg[$w]}")"
  [ -x "$built" ] && mv "$built" "$dest/${name[$w]}"
done
echo "$dest"
