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

bash test/bed/install-trivy.sh
if [ -f test/bed/install-trivydb.sh ]; then bash test/bed/install-trivydb.sh; fi
# grype and a local database of its own (schema v6, written by test/bed/grype/grypedb from the same advisories).
bash test/bed/install-grype.sh
if [ -f test/bed/install-kubernetes.sh ]; then bash test/bed/install-kubernetes.sh; fi
# Gateway API's standard CRD bundle (HTTPRoute and the kinds a real gateway waits for), from the Go module proxy.
bash test/bed/install-gateway-api.sh
# helm renders charts for `gantry deploy --chart`.
bash test/bed/install-helm.sh
# moto in server mode: CloudWatch's GetMetricData for the analysis provider's tests.
bash test/bed/install-moto.sh
# cosign, the reference the supply-chain tests check Gantry's signatures and attestations against.
bash test/bed/install-cosign.sh
# Traefik: a real Gateway API implementation (and ingress-nginx annotation reader) for the sandbox.
bash test/bed/install-traefik.sh
bash test/bed/install-docker.sh
