#!/usr/bin/env bash
# Registers the namespace (with its retention) and Mini-Zaps' search attributes on a running
# server, then waits until queries accept them. Idempotent.
# Env: TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_RETENTION (30d),
# TEMPORAL_CLI (default: the pinned CLI in .tools/bin, else `temporal` on PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cli="${TEMPORAL_CLI:-}"
[ -n "$cli" ] || { [ -x "$here/../.tools/bin/temporal" ] && cli="$here/../.tools/bin/temporal"; } || cli=temporal
address="${TEMPORAL_ADDRESS:-127.0.0.1:7233}" ns="${TEMPORAL_NAMESPACE:-default}" retention="${TEMPORAL_RETENTION:-30d}"
t() { "$cli" --address "$address" "$@"; }
for _ in $(seq 1 60); do t operator cluster health >/dev/null 2>&1 && break; sleep 1; done
if t operator namespace describe -n "$ns" >/dev/null 2>&1; then
  t operator namespace update -n "$ns" --retention "$retention" >/dev/null
else
  t operator namespace create -n "$ns" --retention "$retention" >/dev/null
fi
# name=Type pairs from search-attributes.json (one `"Name": "Type"` a line), the one list of them.
pairs="$(sed -n 's/^ *"\([A-Za-z0-9_]*\)": *"\([A-Za-z]*\)".*/\1=\2/p' "$here/search-attributes.json")"
query=""
for pair in $pairs; do
  name="${pair%%=*}" type="${pair##*=}"
  # A namespace just created is unknown to the frontend for a few seconds: retry until listed.
  for _ in $(seq 1 60); do
    t operator search-attribute list -n "$ns" 2>/dev/null | grep -q "^ *$name " && break
    t operator search-attribute create -n "$ns" --name "$name" --type "$type" >/dev/null 2>&1 || sleep 1
  done
  query="${query:+$query AND }$name IS NULL"
done
# The frontend learns new attributes when its namespace cache refreshes (seconds).
for _ in $(seq 1 90); do
  if t workflow list -n "$ns" --limit 1 --query "$query" >/dev/null 2>&1; then echo "namespace $ns ready (retention $retention)" >&2; exit 0; fi
  sleep 1
done
echo "the search attributes of $ns did not become queryable" >&2
exit 1
