#!/usr/bin/env bash
# Builds the Helm CLI (helm.sh/helm/v4) at the version pinned by the wrapper module test/bed/helm/go.mod, for
# `gantry deploy --chart` (Gantry runs only `helm template`: it renders charts and applies the result itself;
# Helm never talks to the cluster). The binary is cached outside the repo in
#   ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/helm-<VERSION>/bin/helm
# and linked into /usr/local/bin (the sandbox also exports GANTRY_HELM with its path). Idempotent: a binary
# that reports the pinned version is left alone (a warm run takes well under a second); a cold build (empty Go
# module and build caches, the modules' download included) took 234 s on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=v4.3.2
cache=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}/helm-$version
bin=$cache/bin
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock 9

log() { printf '[install-helm] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed (need Go >= 1.25)"; exit 3; }

if ! "$bin/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$version"; then
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly"
  start=$(date +%s)
  log "building helm $version (cold: a few minutes on 2 cores)"
  (cd "$here/helm" && go build -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    -o "$bin/helm.tmp" helm.sh/helm/v4/cmd/helm)
  mv "$bin/helm.tmp" "$bin/helm"
  log "helm $version built in $(( $(date +%s) - start ))s"
fi
ln -sf "$bin/helm" /usr/local/bin/helm
