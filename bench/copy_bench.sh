#!/usr/bin/env bash
# Registry-to-registry copy benchmark: anyarch copy --all vs skopeo copy --all.
# Builds (once, cached in cache/bench) a multi-platform image of incompressible, deterministically
# generated layers (default 640 MiB: 4 platforms x 4 layers), starts two docker-registry instances
# on 127.0.0.1 (plain HTTP), seeds the source with skopeo, then copies the whole index to a fresh
# destination registry RUNS times per tool and prints one table: median wall time, speed, and
# peak RSS (/usr/bin/time %M). A benchmark, not a test: it never fails on the figures.
# Env: ANYARCH_BIN (default build-release/src/anyarch, the plain Release tree scripts/test.sh
# builds, else build/src/anyarch), ANYARCH_CACHE (default cache/), BENCH_MIB (640),
# BENCH_RUNS (3).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
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

# run_once TOOL N SCENARIO: one timed copy to a fresh destination; sets R to "SECONDS KIB" or
# "fail". Scenarios: registry (into a fresh registry: in one that already holds the blobs in
# another repository, both tools would mount instead of copy) and layout (a fresh oci: directory).
# The destination is deleted afterwards and dirty pages are written back (sync) before the next
# run, so no run pays for the writeback of an earlier one.
run_once() {
  local tool=$1 n=$2 scenario=$3 tf="$WORK/time.$1.$2.$3" log="$WORK/out.$1.$2.$3" rc dst
  sync
  if [ "$scenario" = registry ]; then
    start_plain_registry DSTREG
    dst=$DSTREG/bench-$tool-$n:latest
  else
    dst=$WORK/layout-$tool-$n
  fi
  case $tool/$scenario in
    anyarch/registry) /usr/bin/time -f '%e %M' -o "$tf" "$AA" --progress quiet copy --all \
                        "$SRCREG/bench:latest" "$dst" >"$log" 2>&1 ;;
    anyarch/layout) /usr/bin/time -f '%e %M' -o "$tf" "$AA" --progress quiet copy --all \
                      "$SRCREG/bench:latest" "oci:$dst:latest" >"$log" 2>&1 ;;
    skopeo/registry) /usr/bin/time -f '%e %M' -o "$tf" skopeo copy -q --all --src-tls-verify=false \
                       --dest-tls-verify=false "docker://$SRCREG/bench:latest" "docker://$dst" >"$log" 2>&1 ;;
    skopeo/layout) /usr/bin/time -f '%e %M' -o "$tf" skopeo copy -q --all --src-tls-verify=false \
                     "docker://$SRCREG/bench:latest" "oci:$dst:latest" >"$log" 2>&1 ;;
  esac
  rc=$?
  local got
  if [ "$scenario" = registry ]; then
    got=$(skopeo inspect --tls-verify=false --raw "docker://$dst" 2>/dev/null | sha256sum | cut -d' ' -f1)
    stop_registry DSTREG
  else
    got=$(skopeo inspect --raw "oci:$dst:latest" 2>/dev/null | sha256sum | cut -d' ' -f1)
    rm -rf "$dst"
  fi
  if [ "$rc" -ne 0 ] || [ "$got" != "$want" ]; then
    echo "bench: $tool $scenario run $n failed (rc $rc): $(tail -2 "$log" | tr '\n' ' ')" >&2
    R=fail
    return
  fi
  R=$(tail -1 "$tf")
}

# The tools take turns, run by run, so a slow phase of the machine hits both alike.
declare -A times rss med_s med_kib
for scenario in registry layout; do
  for ((i = 1; i <= runs; i++)); do
    for tool in skopeo anyarch; do
      run_once "$tool" "$i" "$scenario"  # sets R (not in a subshell: registries must outlive it)
      [ "$R" = fail ] && continue
      times[$tool/$scenario]+="${R% *} " rss[$tool/$scenario]+="${R#* } "
      echo "bench: $tool $scenario run $i: ${R% *} s, peak RSS ${R#* } KiB" >&2
    done
  done
  for tool in skopeo anyarch; do
    if [ -z "${times[$tool/$scenario]:-}" ]; then
      med_s[$tool/$scenario]=- med_kib[$tool/$scenario]=-
    else
      med_s[$tool/$scenario]=$(printf '%s\n' ${times[$tool/$scenario]} | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
      med_kib[$tool/$scenario]=$(printf '%s\n' ${rss[$tool/$scenario]} | sort -g | tail -1)
    fi
  done
done

echo
printf 'copy --all on 127.0.0.1: 4 platforms x 4 layers, %d MiB of blobs, median of %d runs\n' \
  $((bytes >> 20)) "$runs"
printf '%-28s %-8s %9s %9s %13s\n' scenario tool seconds MiB/s "peak RSS MiB"
for scenario in registry layout; do
  label="registry -> registry"
  [ "$scenario" = layout ] && label="registry -> oci: layout"
  for tool in skopeo anyarch; do
    s=${med_s[$tool/$scenario]} k=${med_kib[$tool/$scenario]}
    if [ "$s" = - ]; then
      printf '%-28s %-8s %9s %9s %13s\n' "$label" "$tool" failed - -
    else
      printf '%-28s %-8s %9s %9.1f %13.1f\n' "$label" "$tool" "$s" \
        "$(awk -v b="$bytes" -v s="$s" 'BEGIN {print b / 1048576 / s}')" "$(awk -v k="$k" 'BEGIN {print k / 1024}')"
    fi
  done
  if [ "${med_s[anyarch/$scenario]}" != - ] && [ "${med_s[skopeo/$scenario]}" != - ]; then
    printf '%-28s anyarch/skopeo speed: %.2fx (target >= 1.5x, peak RSS <= 64 MiB)\n' "$label" \
      "$(awk -v a="${med_s[skopeo/$scenario]}" -v b="${med_s[anyarch/$scenario]}" 'BEGIN {print a / b}')"
  fi
done
