#!/usr/bin/env bash
# Installs the local sandbox's Kubernetes control plane: kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl built from k8s.io/kubernetes, kwok and kwokctl built from sigs.k8s.io/kwok,
# and etcd from Debian (etcd-server). Idempotent: a binary that already exists and reports the pinned
# version is left alone. Binaries are cached outside the repo in
#   ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/k8s-<K8S_VERSION>/bin/
# and Go's build and module caches (go env GOCACHE / GOMODCACHE) persist between runs.
# A cold build takes 10-30 min on 2 cores; a warm run takes about a second.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=k8s/versions.env
source "$here/k8s/versions.env"

cache_root="${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}"
bin="$cache_root/k8s-$K8S_VERSION/bin"
mkdir -p "$bin"
# One install at a time per cache (a second run waits, then finds everything cached); builds go to a
# temporary directory in the cache and are moved into place only when complete.
exec 9>"$bin/.lock"
flock 9
rm -rf "$bin"/.build.*
trap 'rm -rf "$bin"/.build.*' EXIT

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# The go.sum files in test/bed/k8s pin every dependency; never let a build rewrite them.
export GOFLAGS="$GOFLAGS -mod=readonly"

log() { printf '[install-kubernetes] %s\n' "$*" >&2; }
now() { date +%s; }
elapsed() { echo "$(( $(now) - $1 ))s"; }

command -v go >/dev/null || { log "go is not installed (need Go >= 1.24)"; exit 3; }
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
if [ "$go_minor" -lt 24 ]; then log "need Go >= 1.24, found $(go env GOVERSION)"; exit 3; fi

# has_version FILE WANT ARGS...: FILE exists and `FILE ARGS...` prints WANT.
has_version() {
  local file="$1" want="$2"; shift 2
  local out
  [ -x "$file" ] || return 1
  out="$("$file" "$@" 2>/dev/null)" || return 1
  [[ "$out" == *"$want"* ]]
}

total_start="$(now)"

# --- etcd (Debian) -------------------------------------------------------------------------------------------
if ! command -v etcd >/dev/null; then
  log "etcd missing: installing Debian's etcd-server"
  if [ "$(id -u)" = 0 ]; then apt-get install -y etcd-server >/dev/null
  else sudo apt-get install -y etcd-server >/dev/null; fi
fi
etcd_version="$(etcd --version | sed -n 's/^etcd Version: //p')"
log "etcd $etcd_version at $(command -v etcd)"
ln -sf "$(command -v etcd)" "$bin/etcd"

# --- control plane + kubectl from k8s.io/kubernetes ------------------------------------------------------------
k8s_cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
missing=()
for cmd in "${k8s_cmds[@]}"; do
  if [ "$cmd" = kubectl ]; then args=(version --client); else args=(--version); fi
  if has_version "$bin/$cmd" "$K8S_VERSION" "${args[@]}"; then
    log "$cmd $K8S_VERSION: cached"
  else
    missing+=("$cmd")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  ldflags+=" -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
  ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
  ldflags+=" -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  # client-go's copy of the version, which kubectl reports as its client version.
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitTreeState=clean"
  tmp="$(mktemp -d "$bin/.build.XXXXXX")"
  pkgs=(); for cmd in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd"); done
  log "building ${missing[*]} $K8S_VERSION (cold: 10-30 min on 2 cores)"
  start="$(now)"
  (cd "$here/k8s" && go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}")
  for cmd in "${missing[@]}"; do mv -f "$tmp/$cmd" "$bin/$cmd"; done
  rmdir "$tmp"
  log "built ${missing[*]} in $(elapsed "$start")"
fi

# --- kwok, kwokctl from sigs.k8s.io/kwok ----------------------------------------------------------------------
kwok_cmds=(kwok kwokctl)
missing=()
for cmd in "${kwok_cmds[@]}"; do
  if has_version "$bin/$cmd" "${KWOK_VERSION#v}" --version; then
    log "$cmd $KWOK_VERSION: cached"
  else
    missing+=("$cmd")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  ldflags="-s -w"
  ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
  ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S_VERSION#v}"
  tmp="$(mktemp -d "$bin/.build.XXXXXX")"
  pkgs=(); for cmd in "${missing[@]}"; do pkgs+=("sigs.k8s.io/kwok/cmd/$cmd"); done
  log "building ${missing[*]} $KWOK_VERSION"
  start="$(now)"
  (cd "$here/k8s/kwok" && go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}")
  for cmd in "${missing[@]}"; do mv -f "$tmp/$cmd" "$bin/$cmd"; done
  rmdir "$tmp"
  log "built ${missing[*]} in $(elapsed "$start")"
fi

for f in "$bin"/*; do
  log "$(basename "$f"): $(du -hL "$f" | cut -f1)"
done
# kube-apiserver 1.34 accepts etcd 3.4 but cannot serve watch-list streams from it; the sandbox component
# turns the WatchList feature gate off to match (see test/bed/components/kubernetes.mjs).
log "done in $(elapsed "$total_start"); binaries in $bin"
