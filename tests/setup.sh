#!/usr/bin/env bash
# Prepares the end-to-end test environment on this machine (as root). Runs every
# tests/setup.d/*.sh in name order; each step is idempotent and says what it did.
# Env: ANYARCH_BIN (default build/src/anyarch), ANYARCH_CACHE (default cache/).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export ANYARCH_SOURCE_DIR=$src
export ANYARCH_BIN=${ANYARCH_BIN:-$src/build/src/anyarch}
export ANYARCH_CACHE=${ANYARCH_CACHE:-$src/cache}
for step in "$src"/tests/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $(basename "$step")"
  bash "$step"
done
