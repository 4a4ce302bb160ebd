#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: installs dependencies, builds anyarch,
# assembles the multi-platform busybox base image into the local store, then builds the example
# application (examples/hello) for eight platforms with `anyarch build`, verifies and runs it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
bash scripts/install-deps.sh
bash scripts/build.sh "$src/build"
bin="$src/build/src/anyarch"
ANYARCH_BIN="$bin" bash examples/assemble.sh
ANYARCH_BIN="$bin" bash examples/build.sh
