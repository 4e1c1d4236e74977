#!/usr/bin/env bash
# Builds cosign (github.com/sigstore/cosign/v3) at a pinned version from the Go module proxy. Gantry itself
# never runs cosign: the supply-chain tests use it as the reference implementation — `cosign verify` and
# `cosign verify-attestation` must accept what `gantry sign` wrote, and `gantry verify` must accept what
# `cosign sign` / `cosign attest` wrote. Cached outside the repo in
#   ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/cosign-<VERSION>/bin/cosign
# and linked into /usr/local/bin (the sandbox exports GANTRY_COSIGN with its path). Idempotent: a binary that
# reports the pinned version is left alone; a cold build (downloads included) took 142 s on 2 cores.
set -euo pipefail
version=v3.1.3
cache=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}/cosign-$version
bin=$cache/bin
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock 9

log() { printf '[install-cosign] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed (need Go >= 1.26)"; exit 3; }

if ! "$bin/cosign" version --json 2>/dev/null | grep -q "\"gitVersion\": *\"$version\""; then
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false"
  start=$(date +%s)
  log "building cosign $version (cold: a few minutes on 2 cores)"
  GOBIN="$bin.tmp" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$version" \
    "github.com/sigstore/cosign/v3/cmd/cosign@$version"
  mv "$bin.tmp/cosign" "$bin/cosign"
  rmdir "$bin.tmp"
  log "cosign $version built in $(( $(date +%s) - start ))s"
fi
ln -sf "$bin/cosign" /usr/local/bin/cosign
