#!/usr/bin/env bash
# Builds Traefik (github.com/traefik/traefik/v3) at a pinned version from the Go module proxy: a real Gateway API
# (and Ingress) implementation for the sandbox. Cached outside the repo in
#   ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/traefik-<VERSION>/bin/traefik
# and linked into /usr/local/bin. Idempotent: a binary that reports the pinned version is left alone.
#
# `go install github.com/traefik/traefik/v3/cmd/traefik@v3.7.13` cannot work: Traefik's go.mod has replace
# directives (ignored unless Traefik is the main module), and the proxy does not serve three things it pins.
# The wrapper module test/bed/traefik builds Traefik's command with:
#   - ./ext for github.com/traefik/traefik/dynamic/ext (upstream replaces it with a directory missing from
#     the module zip);
#   - the go-http-auth pseudo-version Traefik used up to v3.6.12 (v3.7.13's is refused by the proxy);
#   - a copy of lego (github.com/go-acme/lego/v5) generated below from the module cache, without the six DNS
#     providers whose SDK modules the proxy refuses (their packages, their entries in lego's provider
#     registry and their requirements in lego's go.mod). Those providers are the only loss: Traefik's ACME
#     resolvers cannot use them, which the sandbox never does.
# The copy sits in the cache (lego-<VERSION>-gantry) and is linked as test/bed/traefik/lego-<VERSION>
# (git-ignored), the path go.mod replaces lego with; go.sum is committed and the build runs -mod=readonly, so
# every module but that generated copy is checked against it.
#
# Measured on 2 cores with empty module and build caches, while another Go build (scripts/setup.sh building
# trivy and kubernetes) shared the cores (load 5-8): 12 min wall in all, 24 s of it downloading the modules,
# peak 3.3 GB resident (one compiler process); the binary is 174 MB. Rebuilding with a warm build cache took
# 4-22 s; a run that finds the binary in place takes under 0.1 s.
# Sandbox use: pass --global.checkNewVersion=false (it is on by default and calls out to update.traefik.io).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module=$here/traefik
version=v3.7.13
lego_version=v5.4.1
cache_root=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}
cache=$cache_root/traefik-$version
bin=$cache/bin
mkdir -p "$bin"
exec 9>"$bin/.lock"
flock 9

log() { printf '[install-traefik] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

# The DNS providers removed from lego, and the modules (refused by the proxy) only they import.
lego_drop_providers=(edgedns huaweicloud oraclecloud sakuracloud ucloud yandexcloud)
lego_drop_modules=(
  github.com/akamai/AkamaiOPEN-edgegrid-golang/v13
  github.com/huaweicloud/huaweicloud-sdk-go-v3
  github.com/nrdcg/oci-go-sdk/common/v1065
  github.com/nrdcg/oci-go-sdk/dns/v1065
  github.com/sacloud/sacloud-sdk-go
  github.com/ucloud/ucloud-sdk-go
  github.com/yandex-cloud/go-sdk/services/dns
)

command -v go >/dev/null || fail "go is not installed (need Go >= 1.26.8)"
grep -q "github.com/traefik/traefik/v3 $version\$" "$module/go.mod" ||
  fail "test/bed/traefik/go.mod does not require github.com/traefik/traefik/v3 $version"
grep -q "github.com/go-acme/lego/v5 => ./lego-$lego_version\$" "$module/go.mod" ||
  fail "test/bed/traefik/go.mod does not replace github.com/go-acme/lego/v5 with ./lego-$lego_version"

# True when $1 runs and reports the pinned version. (Not `traefik version | grep -q`: grep exits at the first
# match, and under pipefail traefik's SIGPIPE would fail the pipeline.)
reports_version() {
  local out
  out=$("$1" version 2>/dev/null) || return 1
  grep -Eq "^Version: +$version\$" <<<"$out"
}

if reports_version "$bin/traefik"; then
  ln -sf "$bin/traefik" /usr/local/bin/traefik
  exit 0
fi

export GOTOOLCHAIN=local CGO_ENABLED=0
start=$(date +%s)

# lego without the refused providers. Regenerated when the recipe (the lists above) changes.
lego=$cache/lego-$lego_version-gantry
recipe="lego $lego_version without: ${lego_drop_providers[*]}; requirements dropped: ${lego_drop_modules[*]}"
if [[ ! -f "$lego/.gantry-recipe" || "$(cat "$lego/.gantry-recipe")" != "$recipe" ]]; then
  log "generating lego $lego_version without ${lego_drop_providers[*]}"
  # Outside any module (cd /), `go mod download` fetches the one module and prints where it unpacked it.
  info=$(cd / && GOFLAGS= go mod download -json "github.com/go-acme/lego/v5@$lego_version" 2>&1) || true
  src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")
  [[ -n "$src" && -f "$src/go.mod" ]] || fail "could not download github.com/go-acme/lego/v5@$lego_version: $info"
  tmp=$lego.tmp
  rm -rf "$lego" "$tmp"
  cp -R "$src" "$tmp"
  chmod -R u+w "$tmp"
  alt=$(IFS='|'; echo "${lego_drop_providers[*]}")
  for p in "${lego_drop_providers[@]}"; do
    [[ -d "$tmp/providers/dns/$p" ]] || fail "lego $lego_version has no providers/dns/$p"
    rm -rf "$tmp/providers/dns/$p"
  done
  registry=$tmp/providers/dns/zz_gen_dns_providers.go
  # Drop the providers' imports, and each `case "<name>"[, "<alias>"]:` line with the `return <pkg>.NewDNSProvider()`
  # under it.
  sed -E -i \
    -e "/^\t\"github\.com\/go-acme\/lego\/v5\/providers\/dns\/($alt)\"\$/d" \
    -e "/^\tcase .*:\$/{N;/\n\t\treturn ($alt)\.NewDNSProvider\(\)\$/d}" \
    "$registry"
  if grep -rEn "providers/dns/($alt)\"|[^.a-z]($alt)\.NewDNSProvider" "$tmp" --include='*.go'; then
    fail "lego $lego_version still refers to a removed provider (above): its registry changed shape"
  fi
  for m in "${lego_drop_modules[@]}"; do
    grep -Eq "^[[:space:]]*$m v" "$tmp/go.mod" || fail "lego $lego_version's go.mod does not require $m"
    (cd "$tmp" && GOFLAGS= go mod edit -droprequire="$m")
  done
  echo "$recipe" >"$tmp/.gantry-recipe"
  mv "$tmp" "$lego"
fi
ln -sfn "$lego" "$module/lego-$lego_version"

log "building traefik $version (cold: several minutes and ~3 GB of memory on 2 cores)"
(cd "$module" && GOFLAGS="-buildvcs=false -mod=readonly" go mod download) ||
  fail "downloading Traefik's modules (is the Go module proxy reachable? is go.sum up to date?)"
log "modules downloaded after $(( $(date +%s) - start ))s"
(cd "$module" && GOFLAGS="-buildvcs=false -mod=readonly" nice -n 10 go build -trimpath \
  -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version" \
  -o "$bin/traefik.tmp" github.com/traefik/traefik/v3/cmd/traefik) || fail "go build of traefik $version"
reports_version "$bin/traefik.tmp" ||
  fail "the built binary does not report version $version"
mv "$bin/traefik.tmp" "$bin/traefik"
log "traefik $version built in $(( $(date +%s) - start ))s ($(du -m "$bin/traefik" | cut -f1) MiB)"
ln -sf "$bin/traefik" /usr/local/bin/traefik
