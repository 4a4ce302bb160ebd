#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [DIR] [extra cmake args...]
# DIR defaults to build/. Uses Ninja and every core. Warnings are errors here (ANYARCH_WERROR), as
# in CI; a plain `cmake -B b -DCMAKE_BUILD_TYPE=Release` build leaves them warnings.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$src/build}
shift || true
cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANYARCH_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
