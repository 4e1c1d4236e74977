#!/usr/bin/env bash
# Fetches the Gateway API standard-channel CRD bundle (HTTPRoute, Gateway, GatewayClass, GRPCRoute, TLSRoute,
# BackendTLSPolicy, ReferenceGrant, ...) at a pinned version from the Go module proxy: the module
# sigs.k8s.io/gateway-api carries the bundle in config/crd/standard/. The sandbox installs these CRDs, as a
# cluster with a real gateway has them: the traffic simulator and the real proxy (Traefik) read the same
# HTTPRoutes, and the API server validates what Gantry writes with upstream's own schema and CEL rules.
# Copied outside the repo to
#   ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/gateway-api-<VERSION>/crds/*.yaml
# (CustomResourceDefinitions only; the bundle's ValidatingAdmissionPolicy for safe upgrades is left out).
# Idempotent: a complete copy is left alone.
set -euo pipefail
version=v1.6.1
cache=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}/gateway-api-$version
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

log() { printf '[install-gateway-api] %s\n' "$*" >&2; }

if [ ! -f "$cache/crds/.complete" ]; then
  command -v go >/dev/null || { log "go is not installed"; exit 3; }
  start=$(date +%s)
  dir=$(cd /tmp && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir/config/crd/standard" ] || { log "no config/crd/standard in sigs.k8s.io/gateway-api@$version ($dir)"; exit 3; }
  rm -rf "$cache/crds.tmp" && mkdir -p "$cache/crds.tmp"
  for f in "$dir"/config/crd/standard/*.yaml; do
    grep -q '^kind: CustomResourceDefinition' "$f" && cp "$f" "$cache/crds.tmp/"
  done
  chmod 644 "$cache"/crds.tmp/*.yaml
  touch "$cache/crds.tmp/.complete"
  rm -rf "$cache/crds" && mv "$cache/crds.tmp" "$cache/crds"
  log "Gateway API $version standard CRDs ($(ls "$cache/crds" | wc -l) files) in $(( $(date +%s) - start ))s"
fi
