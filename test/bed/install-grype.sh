#!/usr/bin/env bash
# Builds grype at the version pinned by the wrapper module test/bed/grype/go.mod, and the sandbox's grype
# vulnerability database, for `gantry scan --scanner grype`.
#
#   grype:    ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/grype-<VERSION>/bin/grype, linked into /usr/local/bin
#   database: ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/grype-cache/6/ (GRYPE_DB_CACHE_DIR=…/grype-cache;
#             the sandbox's grype component exports it with the settings that keep grype offline)
#
# The database holds the advisories of test/bed/trivydb/advisories.yaml (the trivy database's source, so both
# scanners know the same ones). test/bed/grype/grypedb writes it with grype's own v6 writer, then
# `grype db import` hydrates and installs it exactly as it installs a downloaded database.
#
# Idempotent: a binary that reports the pinned version is left alone, and the database is rebuilt only when
# advisories.yaml, the helper or the pinned grype changed (a hash stamp sits next to it); a warm run takes well
# under a second. Cold (empty Go module and build caches, the modules' download included, ~2.2 GB of modules):
# grype took 166 s wall / 266 s CPU on 2 otherwise quiet cores (585 s wall with other Go builds running), peak
# 1.25 GB resident in one compiler process; the helper then ~10 s, the database and its import well under 1 s.
# `go install github.com/anchore/grype/cmd/grype@v0.121.3` works too (no replace or exclude directives); the
# wrapper module is there for the helper, which must be built against the same grype.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module=$here/grype
advisories=$here/trivydb/advisories.yaml
version=v0.121.3
cache_root=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}
cache=$cache_root/grype-$version
bin=$cache/bin
db_cache=$cache_root/grype-cache
mkdir -p "$bin" "$db_cache"
exec 9>"$bin/.lock"
flock 9

log() { printf '[install-grype] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed (need Go >= 1.26.8)"; exit 3; }
grep -q "github.com/anchore/grype $version\$" "$module/go.mod" || {
  log "test/bed/grype/go.mod does not require github.com/anchore/grype $version"
  exit 3
}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly"

if ! "$bin/grype" version -o json 2>/dev/null | grep -q "\"version\": \"${version#v}\""; then
  start=$(date +%s)
  log "building grype $version (cold: about 3 minutes on 2 cores)"
  (cd "$module" && go build -trimpath -ldflags "-s -w -X main.version=${version#v}" \
    -o "$bin/grype.tmp" github.com/anchore/grype/cmd/grype)
  mv "$bin/grype.tmp" "$bin/grype"
  log "grype $version built in $(( $(date +%s) - start ))s"
fi
ln -sf "$bin/grype" /usr/local/bin/grype

hash_of() { cat "$@" | sha256sum | cut -c1-16; }
helper_hash=$(hash_of "$module/go.mod" "$module/go.sum" "$module"/grypedb/*.go)
db_hash=$(hash_of "$module/go.mod" "$module/go.sum" "$module"/grypedb/*.go "$advisories")
stamp=$db_cache/.gantry-stamp
if [[ -f "$stamp" && "$(cat "$stamp")" == "$db_hash" && -f "$db_cache/6/vulnerability.db" ]]; then
  log "grype database up to date ($db_cache/6, stamp $db_hash)"
  exit 0
fi

helper=$cache/grypedb-$helper_hash/grypedb
if [[ ! -x "$helper" ]]; then
  log "building the grype database helper ($helper_hash)"
  mkdir -p "$(dirname "$helper")"
  (cd "$module" && go build -trimpath -o "$helper.tmp" ./grypedb)
  mv "$helper.tmp" "$helper"
fi

staging=$(mktemp -d "$db_cache/build.XXXXXX")
trap 'rm -rf "$staging"' EXIT
"$helper" -advisories "$advisories" -out "$staging"
export GRYPE_DB_CACHE_DIR=$db_cache GRYPE_DB_AUTO_UPDATE=false GRYPE_DB_VALIDATE_AGE=false GRYPE_CHECK_FOR_APP_UPDATE=false
"$bin/grype" db import "$staging/vulnerability.db"
"$bin/grype" db status >&2
echo "$db_hash" >"$stamp"
log "grype database installed in $db_cache/6 (stamp $db_hash)"
