# Sourced by the benchmarks: sets `src` and exports what tests/e2e/lib.sh needs: the anyarch
# binary (ANYARCH_BIN, default the plain Release tree that scripts/test.sh builds, else build/),
# the source directory and the test cache (ANYARCH_CACHE, default cache/).
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ANYARCH_SOURCE_DIR=$src
if [ -z "${ANYARCH_BIN:-}" ]; then
  ANYARCH_BIN=$src/build/src/anyarch
  [ -x "$src/build-release/src/anyarch" ] && ANYARCH_BIN=$src/build-release/src/anyarch
fi
export ANYARCH_BIN
export ANYARCH_CACHE=${ANYARCH_CACHE:-$src/cache}
