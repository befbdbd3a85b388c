#!/usr/bin/env bash
# Provisions the secret-store servers the tests run against, once (a present build is reused):
# - Vault, built from its Go module into .tools/vault-<version>/vault. v1.13.0 is used: the module's
#   go.mod replaces github.com/hashicorp/vault/api (and api/auth/*) and sdk with folders the module
#   zip lacks, so they are dropped for the published versions go.mod already requires. v1.14.10 (the
#   last MPL release) does not build so: its in-tree sdk matches no published sdk tag.
# - moto (the local AWS endpoint, `moto_server`), from PyPI into a virtualenv at .tools/moto.
# Prints the two executables, one a line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${VAULT_VERSION:-v1.13.0}"
moto_version="${MOTO_VERSION:-5.2.1}"
vault="$root/.tools/vault-$version/vault"
moto="$root/.tools/moto/bin/moto_server"

if [ ! -x "$vault" ]; then
  [ -x /usr/local/go/bin/go ] && PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || { echo "Go is needed to build Vault (github.com/hashicorp/vault@$version): install Go and retry" >&2; exit 1; }
  tmp="$(mktemp -d)"
  trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
  echo "building github.com/hashicorp/vault@$version (several minutes when Go's caches are cold)" >&2
  (cd "$tmp" && printf 'module fetch\ngo 1.20\n' > go.mod && GOFLAGS=-mod=mod go mod download "github.com/hashicorp/vault@$version")
  cp -r "$(go env GOMODCACHE)/github.com/hashicorp/vault@$version" "$tmp/src"
  chmod -R u+w "$tmp/src"
  (
    cd "$tmp/src"
    drops=()
    for m in $(go mod edit -json | sed -n 's/.*"Path": "\(github.com\/hashicorp\/vault\/[^"]*\)".*/\1/p' | sort -u); do
      drops+=("-dropreplace=$m")
    done
    [ "${#drops[@]}" -gt 0 ] && go mod edit "${drops[@]}"
    GOFLAGS=-mod=mod go build -o "$tmp/vault" . >&2
  )
  mkdir -p "$(dirname "$vault")"
  mv "$tmp/vault" "$vault"
fi

if [ ! -x "$moto" ]; then
  echo "installing moto[server]==$moto_version into .tools/moto" >&2
  rm -rf "$root/.tools/moto"
  python3 -m venv "$root/.tools/moto"
  "$root/.tools/moto/bin/pip" install --quiet "moto[server]==$moto_version" >&2
fi

echo "$vault"
echo "$moto"
