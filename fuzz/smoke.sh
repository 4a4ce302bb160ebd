#!/usr/bin/env bash
# Builds every libFuzzer target with clang (build-fuzz/) and runs each briefly from a seed
# corpus: the CI smoke test. FUZZ_SECONDS sets the time per target (default 20).
# Long runs are documented in docs/fuzzing.md.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${ANYARCH_FUZZ_BUILD:-$src/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
CC=clang CXX=clang++ cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DANYARCH_FUZZ=ON -DANYARCH_BENCH=OFF >/dev/null
targets=()
for f in "$src"/src/*/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
status=0
for t in "${targets[@]}"; do
  bin="$dir/fuzz/$t"
  corpus=$(mktemp -d)
  bash "$src/fuzz/seeds.sh" "$t" "$corpus"
  echo "fuzz: $t for ${seconds}s"
  # A crashing input goes beside the temporary corpus, not into the checkout.
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$corpus-$t-" "$corpus" >"$corpus.log" 2>&1; then
    echo "fuzz: $t FAILED (the input is kept as $corpus-$t-*)"
    tail -40 "$corpus.log"
    status=1
  else
    grep -E 'Done [0-9]+ runs' "$corpus.log" | tail -1 || true
  fi
  rm -rf "$corpus" "$corpus.log"
done
exit $status
