#!/usr/bin/env bash
# Registry-to-registry copy benchmark: anyarch copy --all vs skopeo copy --all.
# Builds (once, cached in cache/bench) a multi-platform image of incompressible, deterministically
# generated layers (default 640 MiB: 4 platforms x 4 layers), starts two docker-registry instances
# on 127.0.0.1 (plain HTTP), seeds the source with skopeo, then copies the whole index to a fresh
# destination registry RUNS times per tool and prints one table: median wall time, speed, and
# peak RSS (/usr/bin/time %M). A benchmark, not a test: it never fails on the figures.
# Env: ANYARCH_BIN (default build/src/anyarch), ANYARCH_CACHE (default cache/), BENCH_MIB (640),
# BENCH_RUNS (3).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export ANYARCH_SOURCE_DIR=$src
export ANYARCH_BIN=${ANYARCH_BIN:-$src/build/src/anyarch}
export ANYARCH_CACHE=${ANYARCH_CACHE:-$src/cache}
mib=${BENCH_MIB:-640}
runs=${BENCH_RUNS:-3}
# shellcheck source=../tests/e2e/lib.sh
source "$src/tests/e2e/lib.sh"
set +e +o pipefail  # a failing tool run is reported in the table, not fatal
set -u

layout=$CACHE/bench/random-$mib
stamp=$(sha256sum "$src/tests/tools/make_base_image.py" | cut -d' ' -f1)
if [ ! -f "$layout/.inputs" ] || [ "$(cat "$layout/.inputs")" != "$stamp" ]; then
  echo "bench: generating a $mib MiB image in $layout (once)" >&2
  rm -rf "$layout" "$layout.new"
  mkdir -p "$layout.new"
  python3 "$src/tests/tools/make_base_image.py" random --out "$layout.new" --mib "$mib" \
    --platforms-count 4 --layers 4 >/dev/null || { echo "bench: generator failed" >&2; exit 1; }
  echo "$stamp" >"$layout.new/.inputs"
  mv "$layout.new" "$layout"
fi
bytes=$(du -sb "$layout/blobs" | cut -f1)

start_plain_registry SRCREG
echo "bench: seeding $SRCREG/bench:latest with skopeo" >&2
skopeo copy -q --all --dest-tls-verify=false "oci:$layout:latest" "docker://$SRCREG/bench:latest" \
  || { echo "bench: seeding failed" >&2; exit 1; }
want=$(skopeo inspect --tls-verify=false --raw "docker://$SRCREG/bench:latest" | sha256sum | cut -d' ' -f1)

# run_once TOOL N DSTREG: one timed copy into DSTREG; prints "SECONDS KIB" or "fail".
run_once() {
  local tool=$1 n=$2 dst="$3/bench-$1-$2:latest" tf="$WORK/time.$1.$2" rc
  case $tool in
    anyarch) /usr/bin/time -f '%e %M' -o "$tf" "$AA" --insecure copy --all \
               "$SRCREG/bench:latest" "$dst" >"$WORK/out.$tool.$n" 2>&1 ;;
    skopeo) /usr/bin/time -f '%e %M' -o "$tf" skopeo copy -q --all --src-tls-verify=false \
               --dest-tls-verify=false "docker://$SRCREG/bench:latest" "docker://$dst" \
               >"$WORK/out.$tool.$n" 2>&1 ;;
  esac
  rc=$?
  local got
  got=$(skopeo inspect --tls-verify=false --raw "docker://$dst" 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ "$rc" -ne 0 ] || [ "$got" != "$want" ]; then
    echo "bench: $tool run $n failed (rc $rc): $(tail -2 "$WORK/out.$tool.$n")" >&2
    echo fail
    return
  fi
  tail -1 "$tf"
}

declare -A med_s med_kib
for tool in skopeo anyarch; do
  times=() rss=()
  for ((i = 1; i <= runs; i++)); do
    # A fresh destination registry per run: in a registry that already holds the blobs in another
    # repository, skopeo (and anyarch) mount them instead of copying.
    start_plain_registry DSTREG
    r=$(run_once "$tool" "$i" "$DSTREG")
    [ "$r" = fail ] && continue
    times+=("${r% *}") rss+=("${r#* }")
    echo "bench: $tool run $i: ${r% *} s, peak RSS ${r#* } KiB" >&2
  done
  if [ "${#times[@]}" -eq 0 ]; then
    med_s[$tool]=- med_kib[$tool]=-
  else
    med_s[$tool]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    med_kib[$tool]=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
  fi
done

echo
printf 'copy --all, registry -> registry on 127.0.0.1: %s platforms, %d MiB of blobs, median of %d runs\n' \
  4 $((bytes >> 20)) "$runs"
printf '%-10s %10s %12s %14s\n' tool seconds MiB/s "peak RSS MiB"
for tool in skopeo anyarch; do
  s=${med_s[$tool]} k=${med_kib[$tool]}
  if [ "$s" = - ]; then
    printf '%-10s %10s %12s %14s\n' "$tool" failed - -
  else
    printf '%-10s %10s %12.1f %14.1f\n' "$tool" "$s" "$(awk -v b="$bytes" -v s="$s" 'BEGIN {print b / 1048576 / s}')" "$(awk -v k="$k" 'BEGIN {print k / 1024}')"
  fi
done
if [ "${med_s[anyarch]}" != - ] && [ "${med_s[skopeo]}" != - ]; then
  printf 'anyarch speed relative to skopeo: %.2fx (target >= 1.5x, peak RSS <= 64 MiB)\n' \
    "$(awk -v a="${med_s[skopeo]}" -v b="${med_s[anyarch]}" 'BEGIN {print a / b}')"
fi
