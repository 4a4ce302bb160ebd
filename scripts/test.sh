#!/usr/bin/env bash
# Runs every test of anyarch on a fresh Debian 12 machine, as root:
#   1. installs the Debian packages it needs (scripts/install-deps.sh);
#   2. builds the release tree and runs the unit tests and the layering check;
#   3. builds a plain Release tree as a packager would (no -Werror) and runs its unit tests;
#   4. builds the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer and runs them;
#   5. prepares the test environment (binfmt_misc, qemu, base images: tests/setup.sh);
#   6. runs the end-to-end tests against real registries on 127.0.0.1;
#   7. runs the fuzz targets briefly (fuzz/smoke.sh), when they exist.
# Prints one closing line "tests: N passed, N failed". Exits non-zero if anything failed.
# ANYARCH_TEST_SKIP_ASAN=1 skips stage 4 for a quicker local loop.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

passed=0
failed=0
failures=()

stage() { printf '\n==> %s\n' "$*"; }

# Adds the counts of one ctest run (read from its summary line) to the totals.
run_ctest() {
  local label=$1 dir=$2
  shift 2
  local log
  log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure "$@") 2>&1 | tee "$log"
  local line total nfail
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    if grep -q 'No tests were found' "$log"; then
      rm -f "$log"
      return 0
    fi
    failed=$((failed + 1))
    failures+=("$label: ctest did not finish")
  else
    nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + total - nfail))
    failed=$((failed + nfail))
    [ "$nfail" -eq 0 ] || failures+=("$label: $nfail failed")
  fi
  rm -f "$log"
}

stage "installing dependencies"
bash scripts/install-deps.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

stage "building (release)"
if ! bash scripts/build.sh "$src/build"; then
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

stage "unit tests (release)"
run_ctest unit "$src/build" -L unit -j "$(nproc)"

stage "building (plain CMake Release, as packagers and the benchmarks build it)"
if cmake -S "$src" -B "$src/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build "$src/build-release" -j "$(nproc)"; then
  stage "unit tests (Release)"
  run_ctest unit-release "$src/build-release" -L unit -j "$(nproc)"
else
  failed=$((failed + 1))
  failures+=("plain Release build failed")
fi

if [ "${ANYARCH_TEST_SKIP_ASAN:-0}" != 1 ]; then
  stage "building unit tests under ASan+UBSan"
  if bash scripts/build.sh "$src/build-asan" -DANYARCH_SANITIZE=ON -DANYARCH_BENCH=OFF; then
    stage "unit tests (ASan+UBSan)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      run_ctest unit-asan "$src/build-asan" -L unit -j "$(nproc)"
  else
    failed=$((failed + 1))
    failures+=("sanitizer build failed")
  fi
fi

if [ -f tests/setup.sh ]; then
  stage "preparing the test environment"
  if bash tests/setup.sh; then
    stage "end-to-end tests"
    run_ctest e2e "$src/build" -L e2e
  else
    failed=$((failed + 1))
    failures+=("tests/setup.sh failed")
  fi
fi

if [ -f fuzz/smoke.sh ]; then
  stage "fuzz smoke run"
  if bash fuzz/smoke.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("fuzz smoke run")
  fi
fi

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
