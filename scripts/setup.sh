#!/usr/bin/env bash
# Installs everything the sandbox, the demo and the tests need, idempotently: Debian packages, npm
# dependencies (with Node 24 from the `node` package), and tools built from source at pinned versions,
# cached under ~/.cache/gantry-testbed so a warm machine skips them. Safe to run before every command.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# maven + a JDK run the Jenkins shared library's Groovy test suite (jenkins/pom.xml); victoria-metrics (with
# vmauth) and influxdb are metrics servers for the analysis provider tests, and so are graphite-carbon and
# graphite-web (no web server: the test runs graphite-web's Django app itself, on loopback); python3-venv holds
# moto (the AWS emulator the CloudWatch provider's tests run against, test/bed/install-moto.sh).
apt_packages=(buildah skopeo docker-registry prometheus etcd-server rsync busybox-static uidmap git openssl
  maven openjdk-17-jdk-headless victoria-metrics influxdb graphite-carbon graphite-web python3-venv)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] apt-get install ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm dependencies: reinstall only when package-lock.json changed since the last install.
stamp=node_modules/.gantry-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] npm ci" >&2
  # `npm ci` insists the lock lists every platform's optional binaries (@biomejs/cli-darwin-*, ...); the
  # registry mirror here does not serve them, so fall back to `npm install --no-save`, which installs the
  # same locked versions and leaves package-lock.json untouched.
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/gantry-npm-ci.$$; then
    if grep -q 'in sync' /tmp/gantry-npm-ci.$$; then
      echo "[setup] npm ci refused the lock (optional packages for other platforms); npm install --no-save" >&2
      npm install --no-save --no-audit --no-fund --loglevel=error
    else
      cat /tmp/gantry-npm-ci.$$ >&2; rm -f /tmp/gantry-npm-ci.$$; exit 1
    fi
  fi
  rm -f /tmp/gantry-npm-ci.$$
  echo "$want" > "$stamp"
fi

# The tools built from source, in two lanes at once: on a cold machine each is minutes of Go compiling whose
# downloads and single-threaded links leave a core idle, which the other lane uses. Each script is idempotent and
# takes a lock of its own, so a warm run passes through both lanes in seconds. Lane 1: scanners and signing.
lane1() {
  bash test/bed/install-trivy.sh
  bash test/bed/install-trivydb.sh
  # grype and a local database of its own (schema v6, written by test/bed/grype/grypedb from the same advisories).
  bash test/bed/install-grype.sh
  # cosign, the reference the supply-chain tests check Gantry's signatures and attestations against.
  bash test/bed/install-cosign.sh
  # moto in server mode: CloudWatch's GetMetricData for the analysis provider's tests.
  bash test/bed/install-moto.sh
}
# Lane 2: the cluster, what renders and routes into it, and the Docker path.
lane2() {
  bash test/bed/install-kubernetes.sh
  # Gateway API's standard CRD bundle (HTTPRoute and the kinds a real gateway waits for), from the Go module proxy.
  bash test/bed/install-gateway-api.sh
  # helm renders charts for `gantry deploy --chart`.
  bash test/bed/install-helm.sh
  # Traefik: a real Gateway API implementation (and ingress-nginx annotation reader) for the sandbox.
  bash test/bed/install-traefik.sh
  bash test/bed/install-docker.sh
}
start=$(date +%s)
(set -e; lane1) & lane1_pid=$!
(set -e; lane2) & lane2_pid=$!
failed=0
wait "$lane1_pid" || { echo "[setup] FAILED: scanners and signing tools (see above)" >&2; failed=1; }
wait "$lane2_pid" || { echo "[setup] FAILED: cluster, gateway and Docker tools (see above)" >&2; failed=1; }
[ "$failed" -eq 0 ] || exit 1
echo "[setup] tools ready in $(( $(date +%s) - start ))s" >&2
