#!/usr/bin/env bash
# Installs what the sandbox's Docker path needs, the path GitHub-hosted runners take: Debian's Docker daemon
# (docker.io, with runc), the buildx CLI plugin built from github.com/docker/buildx, and BuildKit's buildkitd and
# buildctl built from github.com/moby/buildkit (a `remote` buildx builder: no local image store, as with
# docker/setup-buildx-action's docker-container driver). Versions are pinned by the wrapper modules in
# test/bed/buildx and test/bed/buildkit; binaries are cached outside the repo in
#   ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/docker-<BUILDX>-<BUILDKIT>/bin/
# and linked into ~/.docker/cli-plugins and /usr/local/bin. Idempotent: a warm run takes about a second;
# a cold build takes about 5 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
buildx_version=v0.38.2
buildkit_version=v0.35.0
cache=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}/docker-$buildx_version-$buildkit_version
bin=$cache/bin
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock 9

log() { printf '[install-docker] %s\n' "$*" >&2; }

# The daemon and runc from Debian. Installing docker.io does not start it here (no systemd); the sandbox starts
# its own dockerd with its own data root and socket (test/bed/components/docker.mjs).
missing=()
for p in docker.io runc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly"

build() { # build NAME MODULE_DIR PACKAGE LDFLAGS
  local name=$1 dir=$2 pkg=$3 ldflags=$4 start
  start=$(date +%s)
  log "building $name (cold: a few minutes on 2 cores)"
  (cd "$here/$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$name.tmp" "$pkg")
  mv "$bin/$name.tmp" "$bin/$name"
  log "$name built in $(( $(date +%s) - start ))s"
}

if ! "$bin/docker-buildx" version 2>/dev/null | grep -q "$buildx_version"; then
  build docker-buildx buildx github.com/docker/buildx/cmd/buildx \
    "-X github.com/docker/buildx/version.Version=$buildx_version -X github.com/docker/buildx/version.Package=github.com/docker/buildx"
fi
for cmd in buildkitd buildctl; do
  if ! "$bin/$cmd" --version 2>/dev/null | grep -q "$buildkit_version"; then
    build "$cmd" buildkit "github.com/moby/buildkit/cmd/$cmd" \
      "-X github.com/moby/buildkit/version.Version=$buildkit_version -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit"
  fi
done

# The plugin where the docker CLI looks for it (a user's DOCKER_CONFIG is left alone: the sandbox points its
# own DOCKER_CONFIG at a directory that links the same plugin).
mkdir -p "$HOME/.docker/cli-plugins"
ln -sf "$bin/docker-buildx" "$HOME/.docker/cli-plugins/docker-buildx"
ln -sf "$bin/buildkitd" /usr/local/bin/buildkitd
ln -sf "$bin/buildctl" /usr/local/bin/buildctl
