#!/usr/bin/env bash
# Installs moto (PyPI), a local emulator of AWS APIs, in server mode, for the CloudWatch analysis provider's
# tests (test/integration/cloudwatch.test.ts start `moto_server` on 127.0.0.1 and judge rollouts through it).
# It lives in a virtual environment of Debian's Python (python3-venv) cached outside the repo in
#   ${GANTRY_TESTBED_CACHE:-~/.cache/gantry-testbed}/moto-<VERSION>/bin/moto_server
# Idempotent: an environment whose moto reports the pinned version is left alone (a warm run takes well under a
# second); a cold install (an empty pip cache, every wheel downloaded from PyPI) took 32 s on 2 cores.
set -euo pipefail
version=5.2.5
cache=${GANTRY_TESTBED_CACHE:-$HOME/.cache/gantry-testbed}/moto-$version
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9

log() { printf '[install-moto] %s\n' "$*" >&2; }

python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) || { log "python3 is not installed"; exit 3; }

if [ "$("$cache/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" != "$version" ] \
  || [ ! -x "$cache/bin/moto_server" ]; then
  start=$(date +%s)
  log "installing moto[server]==$version into $cache (cold: about 30 s)"
  # A partial environment (an interrupted install) fails the check above and is rebuilt from scratch.
  rm -rf "$cache"
  "$python" -m venv "$cache"
  "$cache/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$version"
  log "moto $version installed in $(( $(date +%s) - start ))s"
fi
