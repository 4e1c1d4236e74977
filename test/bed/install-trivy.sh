#!/usr/bin/env bash
# Builds trivy at a pinned version from the Go module proxy into the cache (outside the repo) and links it
# into /usr/local/bin. `go install pkg@version` is not usable here (the proxy refuses the version list that
# go install reads for deprecation notices), so a wrapper module (test/bed/trivy/go.mod) pins the version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=v0.65.0
cache=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}/trivy-$version
bin=$cache/bin/trivy
if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -q "${version#v}"; then
  echo "[setup] building trivy $version (cold: several minutes on 2 cores)" >&2
  mkdir -p "$cache/bin"
  start=$(date +%s)
  (cd "$here/trivy" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${version#v}" \
    -o "$bin.tmp" github.com/aquasecurity/trivy/cmd/trivy)
  mv "$bin.tmp" "$bin"
  echo "[setup] trivy built in $(( $(date +%s) - start ))s" >&2
fi
ln -sf "$bin" /usr/local/bin/trivy
