#!/usr/bin/env bash
# Bundles the CLI for the shared library's resources (resources/dev/gantry/cli.js), where gantry* steps load it
# with libraryResource: one self-contained file, built from the same source as dist/cli.js (which imports its
# commands from dist/chunks/ and so cannot be copied alone). `npm run build` does this too. `--check` only
# compares a fresh bundle with the one in resources/ and exits 1 when they differ.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${1:-}" == "--check" ]]; then
  exec node "$here/../scripts/bundle.mjs" --jenkins --check
fi
exec node "$here/../scripts/bundle.mjs" --jenkins
