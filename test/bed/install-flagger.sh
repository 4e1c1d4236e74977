#!/usr/bin/env bash
# Builds Flagger, the peer `npm run bench:peers` compares Gantry with, exactly as its issue asks:
#   go install github.com/fluxcd/flagger/cmd/flagger@v1.36.1
# (the version the Go module proxy serves here), and copies its CRDs (Canary, MetricTemplate, AlertProvider)
# from the module's artifacts/flagger/crd.yaml. Both are cached outside the repo in
#   ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/flagger-<VERSION>/{bin/flagger,crd.yaml}
# Not part of the sandbox and not used by the tests: only the peers benchmark (outside CI) needs it.
# Idempotent: a binary that reports the pinned version is left alone. Measured here: 83 s from empty Go module
# and build caches (downloads included), 62 s with a warm Go build
# cache of Kubernetes' client libraries (Flagger's modules downloaded in it), 78 MB.
set -euo pipefail
version=v1.36.1
cache=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}/flagger-$version
bin=$cache/bin
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock 9

log() { printf '[install-flagger] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed"; exit 3; }

if ! "$bin/flagger" -version 2>/dev/null | grep -q "^Flagger version ${version#v} "; then
  start=$(date +%s)
  log "building flagger $version (go install; a minute or more on 2 cores)"
  (cd /tmp && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOBIN="$bin" \
    go install -trimpath "github.com/fluxcd/flagger/cmd/flagger@$version")
  log "flagger $version built in $(( $(date +%s) - start ))s"
fi
if [ ! -s "$cache/crd.yaml" ]; then
  dir=$(cd /tmp && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/fluxcd/flagger@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -f "$dir/artifacts/flagger/crd.yaml" ] || { log "no artifacts/flagger/crd.yaml in flagger@$version ($dir)"; exit 3; }
  cp "$dir/artifacts/flagger/crd.yaml" "$cache/crd.yaml.tmp" && chmod 644 "$cache/crd.yaml.tmp"
  mv "$cache/crd.yaml.tmp" "$cache/crd.yaml"
fi
printf '%s\n' "$cache"
