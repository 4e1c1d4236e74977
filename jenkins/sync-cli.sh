#!/usr/bin/env bash
# Copies the bundled CLI (dist/cli.js, from `npm run build`) into the shared library's resources, where
# gantry* steps load it with libraryResource. `--check` only compares and exits 1 when they differ.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../dist/cli.js"
dest="$here/resources/dev/gantry/cli.js"
if [[ ! -f "$src" ]]; then
  echo "sync-cli: $src is missing: run \`npm run build\` first" >&2
  exit 2
fi
if [[ "${1:-}" == "--check" ]]; then
  if cmp -s "$src" "$dest"; then
    echo "sync-cli: jenkins/resources/dev/gantry/cli.js is identical to dist/cli.js"
    exit 0
  fi
  echo "sync-cli: jenkins/resources/dev/gantry/cli.js differs from dist/cli.js: run jenkins/sync-cli.sh" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
cp "$src" "$dest"
if [[ -f "$src.LEGAL.txt" ]]; then cp "$src.LEGAL.txt" "$dest.LEGAL.txt"; fi
echo "sync-cli: copied dist/cli.js to jenkins/resources/dev/gantry/cli.js ($(wc -c <"$dest") bytes)"
