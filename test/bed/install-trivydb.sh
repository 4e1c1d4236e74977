#!/usr/bin/env bash
# Builds the sandbox's trivy vulnerability database from test/bed/trivydb/advisories.yaml into
# $GANTRY_TESTBED_CACHE/trivy-cache/db (default ~/.cache/gantry-testbed/trivy-cache/db), which the
# sandbox's trivy component points TRIVY_CACHE_DIR at.
#
# Idempotent: the database is rebuilt only when advisories.yaml or the Go helper changed (a hash stamp
# sits next to the database), and the compiled helper is cached outside the repo, keyed by the hash of
# its sources, so a changed advisory costs one run of the helper (~50 ms), not a Go build.
# Needs Go >= 1.24 (GOTOOLCHAIN=local: never downloads a toolchain) and the Go module proxy.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$here/trivydb"
cache_root="${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}"
trivy_cache="$cache_root/trivy-cache"
stamp_file="$trivy_cache/db/.gantry-stamp"

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

helper_hash="$(hash_of "$source_dir"/go.mod "$source_dir"/go.sum "$source_dir"/*.go)"
db_hash="$(hash_of "$source_dir"/go.mod "$source_dir"/go.sum "$source_dir"/*.go "$source_dir"/advisories.yaml)"

if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$db_hash" && -f "$trivy_cache/db/trivy.db" && -f "$trivy_cache/db/metadata.json" ]]; then
  echo "trivy database up to date ($trivy_cache/db, stamp $db_hash)" >&2
  exit 0
fi

helper="$cache_root/trivydb-helper/$helper_hash/trivydb"
if [[ ! -x "$helper" ]]; then
  echo "building the trivy database helper ($helper_hash)" >&2
  mkdir -p "$(dirname "$helper")"
  (cd "$source_dir" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o "$helper.tmp" .)
  mv "$helper.tmp" "$helper"
fi

"$helper" -advisories "$source_dir/advisories.yaml" -out "$trivy_cache"
echo "$db_hash" >"$stamp_file"
echo "trivy database built in $trivy_cache/db (stamp $db_hash)" >&2
