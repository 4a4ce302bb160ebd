#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: installs dependencies, builds anyarch and
# assembles the bundled multi-platform example into the local store, then shows it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
bash scripts/install-deps.sh
bash scripts/build.sh "$src/build"
bin="$src/build/src/anyarch"
if [ -f examples/assemble.sh ]; then
  ANYARCH_BIN="$bin" bash examples/assemble.sh
else
  "$bin" --help
fi
